import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type ConfigError, formatProblem } from '../../src/config/problems.js';
import { TENANT_ID } from '../helpers/app.js';
import { problemLines, withoutPlace } from '../helpers/config.js';

const intune = { intune: { tenantId: TENANT_ID } };

const problems = (document: object) => problemLines(document).map(withoutPlace);

const withRules = (rules: object[], tenant: object = {}) => ({
  tenants: [{ name: 't', domains: ['t.example'], enroll: intune, rules, ...tenant }],
});

describe('routing config', () => {
  it('accepts each action as a rule action and as the tenant default', () => {
    expect(
      problems(
        withRules(
          [
            { name: 'a', when: { users: ['A@t.example'] }, reject: { message: 'No.' } },
            { name: 'b', when: { modelFamilies: ['Mac'] }, notFound: true },
            {
              name: 'c',
              when: { percent: 5 },
              redirect: { url: 'https://x.example/w?a=1', status: 307 },
            },
            { name: 'd', when: { userDomains: ['*.t.example'] }, enroll: intune },
          ],
          { enroll: undefined, reject: { message: 'Not yet.', description: 'closed' } },
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      [{ name: 'a', when: { percent: 5 }, enroll: intune, notFound: true }],
      'tenants[0].rules[0]: gives enroll and notFound; give exactly one of enroll, reject, notFound, appleBusiness, redirect',
    ],
    [
      [{ name: 'a', when: { percent: 5 } }],
      'tenants[0].rules[0]: the rule says nothing to do; give one of enroll, reject, notFound, appleBusiness, redirect',
    ],
    [
      [{ name: 'a', when: {}, notFound: true }],
      "tenants[0].rules[0].when: is empty; give at least one of users, usersFile, userDomains, userPatterns, modelFamilies, percent (to catch everything, make it the tenant's default action)",
    ],
    [[{ name: 'a', notFound: true }], 'tenants[0].rules[0].when: is required'],
    [
      [
        { name: 'a', when: { percent: 5 }, notFound: true },
        { name: 'a', when: { percent: 6 }, notFound: true },
      ],
      'tenants[0].rules[1].name: "a" is also the name of rules[0]; rule names must be unique in a tenant',
    ],
    [
      [{ name: 'a', when: { percent: 5 }, redirect: { url: 'http://x.example/w' } }],
      'tenants[0].rules[0].redirect.url: "http://x.example/w" must use https (Apple devices enroll only over TLS); write "https://x.example/w"',
    ],
    [
      [{ name: 'a', when: { percent: 5 }, redirect: { url: 'https://x.example/w', status: 301 } }],
      'tenants[0].rules[0].redirect.status: 301 is not allowed; use 302 or 307 (a permanent redirect would be cached by clients)',
    ],
    [
      [{ name: 'a', when: { modelFamilies: ['iphone'] }, notFound: true }],
      'tenants[0].rules[0].when.modelFamilies[0]: "iphone" is not allowed; use "iPhone"',
    ],
    [
      [{ name: 'a', when: { modelFamilies: ['VisionPro'] }, notFound: true }],
      'tenants[0].rules[0].when.modelFamilies[0]: "VisionPro" is not allowed; use one of "AppleTV", "iPad", "iPhone", "Mac", "RealityDevice", "Watch", "absent", "unknown"',
    ],
    [
      [{ name: 'a', when: { users: ['joe'] }, notFound: true }],
      'tenants[0].rules[0].when.users[0]: "joe" is not a user-identifier like joe@contoso.com',
    ],
    [
      [{ name: 'a', when: { percent: 101 }, notFound: true }],
      'tenants[0].rules[0].when.percent: Too big: expected number to be <=100',
    ],
    [
      [{ name: 'a', when: { usrs: ['a@b.example'] }, notFound: true }],
      'tenants[0].rules[0].when: unknown key "usrs"; did you mean "users"?',
    ],
    [
      [{ name: 'a', when: { percent: 1 }, reject: { message: ' ' } }],
      'tenants[0].rules[0].reject.message: is empty; write what the person at the device should read',
    ],
  ])('refuses %j', (rules, message) => {
    expect(problems(withRules(rules))).toEqual([message]);
  });

  it('warns about a rule that an earlier one always catches first', () => {
    expect(
      problems(
        withRules([
          { name: 'all-macs', when: { modelFamilies: ['Mac'] }, notFound: true },
          {
            name: 'some-macs',
            when: { modelFamilies: ['Mac'], users: ['a@t.example'] },
            notFound: true,
          },
          { name: 'everyone', when: { userPatterns: ['*'] }, notFound: true },
          { name: 'eu', when: { userDomains: ['eu.t.example'] }, notFound: true },
          { name: 'never', when: { percent: 0 }, notFound: true },
        ]),
      ),
    ).toEqual([
      'warning: tenants[0].rules[1]: rule "some-macs" can never match: rule "all-macs" before it matches every request it would',
      'warning: tenants[0].rules[3]: rule "eu" can never match: rule "everyone" before it matches every request it would',
      'warning: tenants[0].rules[4]: rule "never" never matches: its percent is 0',
    ]);
  });

  it('does not warn about rules that only overlap', () => {
    expect(
      problems(
        withRules([
          { name: 'macs', when: { modelFamilies: ['Mac'] }, notFound: true },
          { name: 'macs-and-ipads', when: { modelFamilies: ['Mac', 'iPad'] }, notFound: true },
          { name: 'eu', when: { userDomains: ['*.t.example'] }, notFound: true },
          { name: 'everyone-with-id', when: { userPatterns: ['*'] }, notFound: true },
          { name: 'no-id', when: { modelFamilies: ['absent'] }, notFound: true },
        ]),
      ),
    ).toEqual([]);
  });

  it('warns when a percent rule follows another with the same conditions', () => {
    expect(
      problems(
        withRules([
          { name: 'wave-1', when: { percent: 10, modelFamilies: ['iPhone'] }, notFound: true },
          { name: 'wave-2', when: { percent: 20, modelFamilies: ['iPhone'] }, notFound: true },
        ]),
      ),
    ).toEqual([
      'warning: tenants[0].rules[1]: rule "wave-2" (percent 20) follows rule "wave-1" (percent 10) with the same other conditions; each rule draws its own buckets, so "wave-2" gets 20% of the 90% that "wave-1" leaves: 18% of requests',
    ]);
  });

  it('refuses a service host that is a tenant domain or a wildcard', () => {
    expect(problems({ ...withRules([]), serviceHosts: ['t.example', '*.svc.example'] })).toEqual([
      'serviceHosts[0]: "t.example" is also a domain of tenant "t" (c.json tenants[0]); a host is either the service\'s own or a tenant\'s',
      'serviceHosts[1]: "*.svc.example" is a wildcard; list the service\'s own host names exactly',
    ]);
  });
});

describe('users files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-users-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const configWithFile = (usersFile: string) =>
    JSON.stringify(withRules([{ name: 'cohort', when: { usersFile }, notFound: true }]), null, 2);

  it('reads identifiers relative to the config file, with comments and blank lines', async () => {
    await writeFile(
      join(dir, 'cohort.txt'),
      '# wave 1\nJoe@Contoso.example\n\n  ann@contoso.example  # pilot\n',
    );
    await writeFile(join(dir, 'config.json'), configWithFile('cohort.txt'));
    const config = await loadConfig(join(dir, 'config.json'));
    expect([...(config.userLists.get(join(dir, 'cohort.txt')) ?? [])]).toEqual([
      'joe@contoso.example',
      'ann@contoso.example',
    ]);
    expect(config.tenants[0]?.rules[0]?.when.usersFile).toBe(join(dir, 'cohort.txt'));
  });

  it('names the file and line of a bad entry', async () => {
    await writeFile(join(dir, 'bad.txt'), 'joe@contoso.example\njoe smith@contoso.example\nann\n');
    await writeFile(join(dir, 'bad.json'), configWithFile('bad.txt'));
    const error = (await loadConfig(join(dir, 'bad.json')).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map(formatProblem)).toEqual([
      `${join(dir, 'bad.txt')}:2:1 tenants[0].rules[0].when.usersFile: "joe smith@contoso.example" is not a user-identifier like joe@contoso.com`,
      `${join(dir, 'bad.txt')}:3:1 tenants[0].rules[0].when.usersFile: "ann" is not a user-identifier like joe@contoso.com`,
    ]);
  });

  it('names a users file that cannot be read', async () => {
    await writeFile(join(dir, 'missing.json'), configWithFile('nowhere.txt'));
    const error = (await loadConfig(join(dir, 'missing.json')).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(error.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      `tenants[0].rules[0].when.usersFile: "nowhere.txt" cannot be read (no such file; looked for ${join(dir, 'nowhere.txt')}); the path is relative to the config file`,
    ]);
  });
});
