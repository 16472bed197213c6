import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

describe('the npm package, installed into an empty folder', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mdm-pack-'));
    // prepack builds dist/ first.
    npm(['pack', '--pack-destination', dir, '--silent'], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
    const app = join(dir, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), '{"private":true}');
    // Offline: only the npm cache, which npm ci filled; nothing is fetched. The package's
    // npm-shrinkwrap.json pins exactly the versions npm ci installed.
    // CI runs this on the machine's Node only: see .ci/run.
    npm(['install', '--offline', '--no-audit', '--no-fund', join(dir, tarball)], app);
    bin = join(app, 'node_modules', '.bin', 'mdm-discovery');
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    execFileSync(bin, args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

  it('prints its version', () => {
    expect(run(['--version'])).toBe(`${VERSION}\n`);
  });

  it('validates the embedded demo config', () => {
    expect(run(['validate'])).toBe(
      'the embedded demo config: valid, 3 tenants, 2 rules, 0 warnings\n',
    );
  });

  it('serves', async () => {
    const child = spawn(bin, ['serve'], {
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
