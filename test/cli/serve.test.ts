import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, listening, runCli, startCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdm-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mdm-discovery serve', () => {
  it('serves the embedded demo config, and exits 0 on SIGTERM', async () => {
    const child = startCli(['serve'], { PORT: '0' });
    const done = finished(child);
    const url = await listening(child);
    const res = await request(
      `${url}/.well-known/com.apple.remotemanagement?user-identifier=joe@contoso.example&model-family=iPhone`,
      { headers: { host: 'contoso.example' } },
    );
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({
      Servers: [
        {
          Version: 'mdm-byod',
          BaseURL:
            'https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a',
        },
      ],
    });
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it('writes request lines in batches, within a second, and loses none at exit', async () => {
    const child = startCli(['serve'], { PORT: '0' });
    const done = finished(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const url = await listening(child);
    const ask = () =>
      request(`${url}/.well-known/com.apple.remotemanagement?model-family=iPad`, {
        headers: { host: 'contoso.example' },
      }).then((res) => res.body.text());
    const lines = () => out.split('\n').filter((line) => line.includes('"msg":"discovery"'));
    // A handful of lines stays under the 4 KiB batch: it is written by the one-second flush.
    await Promise.all(Array.from({ length: 5 }, ask));
    const until = Date.now() + 5000;
    while (lines().length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(lines()).toHaveLength(5);
    // These are still gathered when SIGTERM comes: the exit writes them, before "stopped".
    await Promise.all(Array.from({ length: 3 }, ask));
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const all = result.stdout.split('\n').filter(Boolean);
    expect(all.filter((line) => line.includes('"msg":"discovery"'))).toHaveLength(8);
    expect(all.at(-1)).toContain('"msg":"stopped"');
  });

  it('refuses an invalid config: prints every error with file and line, exits 1, never listens', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          tenants: [
            {
              name: 'a',
              domains: ['A.example '],
              enroll: { intune: { tenantId: 'YourAADTenantID' } },
            },
          ],
        },
        null,
        2,
      ),
    );
    const result = await runCli(['serve'], { PORT: '0', MDM_DISCOVERY_CONFIG: file });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toBe(
      [
        `${file}:6:9 tenants[0].domains[0]: "A.example " has trailing whitespace; write "A.example"`,
        `${file}:10:23 tenants[0].enroll.intune.tenantId: "YourAADTenantID" still holds the placeholder "YourAADTenantID"; replace it with your Microsoft Entra tenant ID (a GUID: Entra admin center > Overview > Tenant ID)`,
        'mdm-discovery serve: invalid configuration (2 errors)',
        '',
      ].join('\n'),
    );
  });

  it('takes --config over MDM_DISCOVERY_CONFIG', async () => {
    const result = await runCli(['serve', '--config', join(dir, 'missing.json')], { PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing.json (root): no such file or directory');
  });

  it('reads .env from the working directory; the environment wins over it', async () => {
    const work = await mkdtemp(join(dir, 'cwd-'));
    await writeFile(join(work, '.env'), 'MDM_DISCOVERY_CONFIG=./from-dotenv.json\nPORT=0\n');
    const fromDotenv = await runCli(['serve'], {}, work);
    expect(fromDotenv.code).toBe(1);
    expect(fromDotenv.stderr).toContain('from-dotenv.json (root): no such file or directory');
    const fromEnv = await runCli(['serve'], { MDM_DISCOVERY_CONFIG: './from-env.json' }, work);
    expect(fromEnv.stderr).toContain('from-env.json (root): no such file or directory');
  });

  it.each([
    ['serve'],
    ['validate'],
    ['explain', '--host', 'contoso.example'],
    ['verify', 'contoso.example'],
    ['init', '--domain', 'contoso.example', '--fleet', 'https://fleet.contoso.example'],
    ['healthcheck'],
  ])(
    '%s: refuses a bad environment in one line, with the variable and the fix, exit 2',
    async (...args) => {
      const result = await runCli(args, { PORT: 'eighty' });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'mdm-discovery: invalid environment: PORT="eighty": must be a whole number from 0 to 65535\n',
      );
    },
  );
});

describe('mdm-discovery', () => {
  it('prints its version and help', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mdm-discovery serve [--config PATH]');
  });

  it('exits 2 for an unknown command or option', async () => {
    const unknown = await runCli(['serv']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "serv"');
    const option = await runCli(['serve', '--port', '1']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--port'");
  });
});

describe('a bug in the running server', () => {
  it.each([
    [
      'an uncaught exception',
      'process.on("SIGUSR2", () => { throw new Error("boom") })',
      'uncaught exception',
    ],
    [
      'an unhandled rejection',
      'process.on("SIGUSR2", () => { Promise.reject(new Error("boom")) })',
      'unhandled rejection',
    ],
  ])('%s is logged, the server drains and exits 1', async (_label, code, message) => {
    // The bug is set off by a signal once the server runs, however long its start takes.
    const child = startCli(['serve'], { PORT: '0' }, undefined, {
      nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(code)}`],
    });
    let seen = '';
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('"msg":"config loaded"') && !seen.includes('set off')) {
        seen += 'set off';
        child.kill('SIGUSR2');
      }
    });
    const result = await finished(child);
    expect(result.code).toBe(1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } });
    expect(lines.find((l) => l.msg === message)).toMatchObject({
      level: 60,
      err: { message: 'boom' },
    });
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped' });
  });
});
