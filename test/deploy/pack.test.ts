import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandNames } from '../../src/cli/run.js';
import { VERSION } from '../../src/version.js';
import { cliInProcess, listening } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let bin: string;
// A clean npm environment: under npx (CI's Node 24 leg) npm_config_local_prefix and the like
// would point the install at this repository.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')),
);
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cleanEnv, npm_config_update_notifier: 'false' },
  });

describe('the npm package, unpacked and installed offline from its shrinkwrap', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdm-pack-'));
    // prepack builds dist/ first.
    npm(['pack', '--pack-destination', dir, '--silent'], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
    execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir]);
    const pkg = join(dir, 'package');
    // Offline, from the package's own npm-shrinkwrap.json: exactly the versions npm ci put in the
    // cache, so nothing is fetched (an `npm install` of the tarball would ask the registry for
    // package metadata, which npm ci never caches).
    npm(['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], pkg);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    bin = join(pkg, manifest.bin['mdm-discovery']);
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });

  it('names an executable script as its bin', () => {
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints its version', () => {
    expect(run(['--version'])).toBe(`${VERSION}\n`);
  });

  it('validates the embedded demo config', () => {
    expect(run(['validate'])).toBe(
      'the embedded demo config: valid, 3 tenants, 2 rules, 0 warnings\n',
    );
  });

  it('serves', async () => {
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: 'off', LOG_FORMAT: 'json' },
    });
    const url = await listening(child);
    const res = await request(`${url}/.well-known/com.apple.remotemanagement`, {
      headers: { host: 'fabrikam.example' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toContain('servicediscoveryenrollment/v1/userenroll');
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('--help', () => {
  it.each(commandNames())('is there for %s', async (name) => {
    const result = await cliInProcess([name, '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(new RegExp(`^Usage: mdm-discovery ${name}`));
  });

  it('lists every command', async () => {
    const result = await cliInProcess(['--help']);
    for (const name of commandNames()) expect(result.out).toContain(`  ${name} `);
  });
});
