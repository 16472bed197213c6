import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { listening, startCli } from '../helpers/cli.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

const SECRET = 'alice.private';

let server: CapturedServer;
beforeAll(async () => {
  server = await startCaptured(undefined, { LOG_HASH_KEY: 'test-key-0123456789abcdef' });
});
afterAll(async () => {
  await server.close();
});

async function send(path: string, host = 'contoso.example', method = 'GET') {
  const res = await request(`${server.url}${path}`, { method: method as 'GET', headers: { host } });
  await res.body.text();
  return res.statusCode;
}

function lines(): Record<string, unknown>[] {
  return server
    .logs()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logging', () => {
  it('writes one line per discovery request with tenant, outcome, status, model family and duration', async () => {
    const before = lines().length;
    expect(
      await send(`${WELL_KNOWN}?user-identifier=${SECRET}@Contoso.example&model-family=Mac`),
    ).toBe(200);
    const added = lines().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      msg: 'discovery',
      tenant: 'contoso',
      outcome: 'enroll',
      status: 200,
      method: 'GET',
      modelFamily: 'Mac',
      userDomain: 'contoso.example',
      level: 30,
    });
    expect(added[0]?.user).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof added[0]?.ms).toBe('number');
  });

  it("correlates one person's attempts by a keyed hash, whatever the spelling", async () => {
    const before = lines().length;
    await send(`${WELL_KNOWN}?user-identifier=${SECRET}@contoso.example`);
    await send(`${WELL_KNOWN}?user-identifier=${SECRET.toUpperCase()}%40CONTOSO.example`);
    await send(`${WELL_KNOWN}?user-identifier=someone.else@contoso.example`);
    const hashes = lines()
      .slice(before)
      .map((l) => l.user);
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[2]).not.toBe(hashes[0]);
  });

  it('never writes a user-identifier in clear text, whatever the request', async () => {
    const encoded = `${SECRET}%40contoso.example`;
    const raw = `${SECRET}@contoso.example`;
    const statuses = [
      await send(`${WELL_KNOWN}?user-identifier=${raw}&model-family=iPhone`),
      await send(`${WELL_KNOWN}?user-identifier=${encoded}`, 'unknown.example'),
      await send(`${WELL_KNOWN}?user-identifier=${SECRET}%zz@contoso.example`),
      await send(`${WELL_KNOWN}?user-identifier=${raw}`, 'contoso.example', 'POST'),
      await send(`/%E0%A4%A/${SECRET}?user-identifier=${raw}`),
      await send(`/other?user-identifier=${raw}`),
    ];
    expect(statuses).toEqual([200, 404, 400, 405, 400, 404]);
    const text = server.logs();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(SECRET);
    expect(text.toLowerCase()).not.toContain('contoso.example?');
    expect(text).not.toMatch(/[\w.+-]+(@|%40)[\w-]+\.[\w.-]+/);
  });
});

describe('pretty logs', () => {
  it('are coloured as the commands are: FORCE_COLOR colours a pipe, NO_COLOR never, a pipe not by default', async () => {
    const run = async (env: Record<string, string>) => {
      const child = startCli(['serve'], {
        LOG_FORMAT: 'pretty',
        PORT: '0',
        WATCH_CONFIG: 'false',
        ...env,
      });
      let seen = '';
      child.stdout?.on('data', (d: Buffer) => {
        seen += d.toString();
      });
      await listening(child);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('close', resolve));
      return seen;
    };
    expect(await run({ FORCE_COLOR: '1' })).toContain('\x1b[');
    const plain = await run({ NO_COLOR: '1' });
    expect(plain).toContain('Server listening at');
    expect(plain).not.toContain('\x1b[');
    expect(await run({ NO_COLOR: '1', FORCE_COLOR: '1' })).toContain('\x1b[');
    expect(await run({})).not.toContain('\x1b[');
  }, 30_000);
});
