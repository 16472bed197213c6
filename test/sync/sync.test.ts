// mdm-discovery sync --from csv against the Entra sign-in fixture on loopback (a test CA, --resolve):
// every domain proved before it is served, a second run that changes nothing, selection, dry run,
// prune, hand-written tenants and rules kept, and a bad row that leaves the directory as it was.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { cliInProcess } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { startCaptured } from '../helpers/server.js';
import { type Fixture, GUID, OTHER_GUID, startSignIn, TENANTS } from '../verify/fixtures.js';

const THIRD = '11111111-2222-4333-8444-555555555555';
let pki: Pki;
let signIn: Fixture;
let dir: string;
let out: string;
let caFile: string;

beforeAll(async () => {
  pki = makePki();
  signIn = await startSignIn(pki.leaf(['login.microsoftonline.com', 'login.microsoftonline.us']));
  Object.assign(TENANTS, {
    'contoso.sync.test': GUID,
    'contoso-eu.sync.test': GUID,
    'fabrikam.sync.test': OTHER_GUID,
    'stolen.sync.test': THIRD, // listed by fabrikam, owned by another tenant
    'northwind.sync.test': THIRD,
    'shared.sync.test': GUID,
    'hand.sync.test': GUID,
  });
  dir = await mkdtemp(join(tmpdir(), 'mdm-sync-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, pki.caPem);
}, 30_000);

afterAll(async () => {
  await signIn.close();
  pki.dispose();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  out = await mkdtemp(join(dir, 'out-'));
  TENANTS['contoso-eu.sync.test'] = GUID;
});

const CSV = `name,domains,tenantId,cloud
Contoso Ltd,contoso.sync.test;contoso-eu.sync.test contoso.onmicrosoft.com contoso.appleaccount.com,${GUID},commercial
Fabrikam,"fabrikam.sync.test; stolen.sync.test",${OTHER_GUID},
Northwind,northwind.sync.test ghost.sync.test,${THIRD},commercial
`;

async function csv(text: string): Promise<string> {
  const file = join(dir, `customers-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(file, text);
  return file;
}

const sync = (file: string, ...args: string[]) =>
  cliInProcess([
    'sync',
    '--from',
    'csv',
    file,
    '--out',
    out,
    '--ca',
    caFile,
    '--resolve',
    `*:443:127.0.0.1:${signIn.port}`,
    '--timeout',
    '3',
    ...args,
  ]);

/** The last line of a run: its JSON summary. */
const summary = (stdout: string) =>
  JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown>;

const files = async () => (await readdir(out)).sort();

describe('mdm-discovery sync --from csv', () => {
  it('writes one proved file per customer, then changes nothing on a second run', async () => {
    const file = await csv(CSV);
    const first = await sync(file, '--all');
    expect(first.code).toBe(3);
    expect(first.out).toContain('added: contoso-ltd-6f0c8a5e\n');
    expect(first.out).toContain(
      `note: Fabrikam: stolen.sync.test left out: it belongs to Entra tenant ${THIRD}, not the customer's ${OTHER_GUID}`,
    );
    expect(first.out).toContain(
      'note: Contoso Ltd: contoso.appleaccount.com left out: it is under appleaccount.com, for which Apple answers',
    );
    expect(first.out).toContain(
      'note: Northwind: ghost.sync.test left out: no Entra tenant has verified it (AADSTS90002)',
    );
    expect(first.out).not.toContain('onmicrosoft');
    expect(summary(first.out)).toMatchObject({
      msg: 'sync',
      customers: 3,
      selected: 3,
      added: 3,
      changed: 0,
      removed: 0,
      outcome: 'changed',
    });
    expect(await files()).toEqual([
      'sync-contoso-ltd-6f0c8a5e.json',
      'sync-fabrikam-0b1d2c3e.json',
      'sync-northwind-11111111.json',
    ]);
    // A valid config the service loads, with the proved domains only.
    const config = await loadConfig(out);
    const contoso = config.tenants.find((t) => t.name === 'contoso-ltd-6f0c8a5e');
    expect(contoso?.domains).toEqual(['contoso.sync.test', 'contoso-eu.sync.test']);
    expect(contoso?.sync).toMatchObject({ from: `csv:${file}`, customer: GUID });
    expect(config.tenants.find((t) => t.name === 'fabrikam-0b1d2c3e')?.domains).toEqual([
      'fabrikam.sync.test',
    ]);

    const before = await Promise.all((await files()).map((f) => stat(join(out, f))));
    const second = await sync(file, '--all');
    expect(second.code).toBe(0);
    expect(summary(second.out)).toMatchObject({ added: 0, changed: 0, outcome: 'unchanged' });
    const after = await Promise.all((await files()).map((f) => stat(join(out, f))));
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));
  });

  it('takes by default only the customers it wrote before, and --include; --dry-run writes nothing', async () => {
    const file = await csv(CSV);
    const none = await sync(file);
    expect([none.code, summary(none.out).selected, await files()]).toEqual([0, 0, []]);
    const dry = await sync(file, '--include', 'contoso.sync.test', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(
      'would be added: contoso-ltd-6f0c8a5e\n  + contoso.sync.test\n  + contoso-eu.sync.test\n',
    );
    expect(await files()).toEqual([]);
    const keys = join(dir, 'keys.txt');
    await writeFile(keys, `# customers to take\n${THIRD}\n`);
    const taken = await sync(file, '--include', 'Contoso Ltd', '--include', `@${keys}`);
    expect(taken.code).toBe(3);
    expect(await files()).toEqual([
      'sync-contoso-ltd-6f0c8a5e.json',
      'sync-northwind-11111111.json',
    ]);
    // Next time, the customers it wrote are taken without --include; --exclude leaves one alone.
    const again = await sync(file, '--exclude', 'Northwind');
    expect(summary(again.out)).toMatchObject({ selected: 1, outcome: 'unchanged' });
  });

  it('keeps a rule a person wrote, and leaves a domain a hand-written tenant serves to it', async () => {
    await writeFile(
      join(out, 'hand.json'),
      JSON.stringify({
        tenants: [{ name: 'mine', domains: ['hand.sync.test'], notFound: true }],
      }),
    );
    const file = await csv(
      `name,domains,tenantId\nContoso Ltd,contoso.sync.test hand.sync.test,${GUID}\n`,
    );
    const first = await sync(file, '--all');
    expect(first.out).toContain(
      'note: Contoso Ltd: hand.sync.test left out: the hand-written tenant "mine" serves it',
    );
    const path = join(out, 'sync-contoso-ltd-6f0c8a5e.json');
    const written = JSON.parse(await readFile(path, 'utf8'));
    written.tenants[0].rules = [
      { name: 'macs-to-abm', when: { modelFamilies: ['Mac'] }, appleBusiness: true },
    ];
    await writeFile(path, JSON.stringify(written, null, 2));
    TENANTS['contoso-eu.sync.test'] = GUID;
    const file2 = await csv(
      `name,domains,tenantId\nContoso Ltd,contoso.sync.test contoso-eu.sync.test,${GUID}\n`,
    );
    const second = await sync(file2);
    expect(second.code).toBe(3);
    expect(second.out).toContain('changed: contoso-ltd-6f0c8a5e\n  + contoso-eu.sync.test\n');
    const tenant = (await loadConfig(out)).tenants.find((t) => t.name === 'contoso-ltd-6f0c8a5e');
    expect(tenant?.domains).toEqual(['contoso.sync.test', 'contoso-eu.sync.test']);
    expect(tenant?.rules.map((r) => r.name)).toEqual(['macs-to-abm']);
    expect(await readFile(join(out, 'hand.json'), 'utf8')).toContain('"mine"');
  });

  it('leaves out a domain two customers list, and keeps a proved domain whose lookup fails', async () => {
    const file = await csv(
      `name,domains,tenantId\nContoso Ltd,contoso.sync.test contoso-eu.sync.test shared.sync.test,${GUID}\nOther,shared.sync.test,${THIRD}\n`,
    );
    const first = await sync(file, '--all');
    expect(first.out).toContain(
      'note: Contoso Ltd: shared.sync.test left out: listed by Contoso Ltd and Other',
    );
    // The sign-in host stops answering for one domain: it stays, as proved before.
    TENANTS['contoso-eu.sync.test'] = 'down';
    const second = await sync(file);
    expect(second.code).toBe(0);
    expect(second.out).toContain(
      'note: Contoso Ltd: contoso-eu.sync.test kept as proved before: the lookup failed (503 from login.microsoftonline.com)',
    );
    // A new domain whose lookup fails is never added unproved.
    const file2 = await csv(`name,domains,tenantId\nFresh,contoso-eu.sync.test,${GUID}\n`);
    await rm(join(out, 'sync-contoso-ltd-6f0c8a5e.json'));
    const third = await sync(file2, '--all');
    expect(third.out).toContain('note: Fresh: contoso-eu.sync.test not added: the lookup failed');
    expect((await files()).filter((f) => f.startsWith('sync-fresh'))).toEqual([]);
  });

  it('removes the file of a customer the source no longer lists only with --prune', async () => {
    const file = await csv(CSV);
    await sync(file, '--all');
    const smaller = await csv(`name,domains,tenantId\nContoso Ltd,contoso.sync.test,${GUID}\n`);
    const kept = await sync(smaller);
    expect(kept.out).toContain(
      'kept: fabrikam-0b1d2c3e (no longer in the source; --prune removes it)',
    );
    expect(await files()).toContain('sync-fabrikam-0b1d2c3e.json');
    const pruned = await sync(smaller, '--prune');
    expect(pruned.code).toBe(3);
    expect(pruned.out).toContain('removed: fabrikam-0b1d2c3e\n');
    expect(await files()).toEqual(['sync-contoso-ltd-6f0c8a5e.json']);
  });

  it.each([
    ['name,domains\nx,a.example\n', 'row 1 (the header) has no "tenantId" column'],
    [
      `name,domains,tenantId\nContoso,contoso.sync.test,not-a-guid\n`,
      'row 2, column "tenantId": "not-a-guid" is not an Entra tenant ID (a GUID)',
    ],
    [
      `name,domains,tenantId\nA,a.sync.test,${GUID}\n,b.sync.test,${THIRD}\n`,
      'row 3, column "name": is empty',
    ],
    [
      `name,domains,tenantId,cloud\nA,a.sync.test,${GUID},gcchigh\n`,
      'row 2, column "cloud": "gcchigh" is not one of commercial, usgov, china',
    ],
    [
      `name,domains,tenantId\nA,https://a.sync.test,${GUID}\n`,
      'row 2, column "domains": "https://a.sync.test" has a scheme',
    ],
    [`name,domains,tenantId\nA,"a.sync.test,${GUID}\n`, 'a quoted field is never closed'],
  ])(
    'refuses a bad CSV, naming the row and the column, and writes nothing: %#',
    async (text, message) => {
      await sync(await csv(CSV), '--all');
      const before = await Promise.all((await files()).map((f) => readFile(join(out, f), 'utf8')));
      const file = await csv(text);
      const result = await sync(file, '--all', '--prune');
      expect(result.code).toBe(1);
      expect(result.err).toContain(`mdm-discovery sync: ${file}: `);
      expect(result.err).toContain(message);
      expect(summary(result.out)).toMatchObject({ outcome: 'failed' });
      const after = await Promise.all((await files()).map((f) => readFile(join(out, f), 'utf8')));
      expect(after).toEqual(before);
    },
  );

  it('refuses a missing --out directory and a broken file in it, writing nothing', async () => {
    const file = await csv(CSV);
    const missing = await cliInProcess([
      'sync',
      '--from',
      'csv',
      file,
      '--out',
      join(dir, 'nope'),
      '--all',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`--out ${join(dir, 'nope')}: cannot be read (ENOENT)`);
    await writeFile(join(out, 'broken.json'), '{"tenants": [');
    const broken = await sync(file, '--all');
    expect(broken.code).toBe(1);
    expect(broken.err).toContain(`${join(out, 'broken.json')}: not valid JSON`);
    expect(await files()).toEqual(['broken.json']);
  });

  it('is picked up by the running service through its file watcher', async () => {
    await writeFile(
      join(out, 'hand.json'),
      JSON.stringify({ tenants: [{ name: 'mine', domains: ['hand.sync.test'], notFound: true }] }),
    );
    const server = await startCaptured(out);
    try {
      const ask = async () => {
        const res = await request(`${server.url}/.well-known/com.apple.remotemanagement`, {
          headers: { host: 'contoso.sync.test' },
        });
        return { status: res.statusCode, body: await res.body.text() };
      };
      expect((await ask()).status).toBe(404);
      expect((await sync(await csv(CSV), '--include', 'Contoso Ltd')).code).toBe(3);
      const deadline = Date.now() + 10_000;
      let answer = await ask();
      while (answer.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await ask();
      }
      expect(answer.body).toBe(
        `{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=${GUID}"}]}`,
      );
    } finally {
      await server.close();
    }
  });

  it('is shown on the status page: where each tenant came from, and when', async () => {
    await sync(await csv(CSV), '--all');
    const server = await startCaptured(out, { WATCH_CONFIG: 'false' });
    try {
      const page = await (await request(`${server.adminUrl}/status?q=contoso`)).body.text();
      expect(page).toMatch(
        /contoso-ltd-6f0c8a5e<\/b><br><span class="muted">synced from csv:[^<]+, \d{4}-\d\d-\d\d \d\d:\d\d UTC<\/span>/,
      );
    } finally {
      await server.close();
    }
  });
});
