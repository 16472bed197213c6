// The image, run by a real Docker Engine: scripts/test-container.sh builds it and the stand-in
// base images, starts dockerd (DOCKER_HOST) and runs this. Each check prints `ok` or `FAIL`; the
// exit code is 1 when one failed. Traffic goes to ports published on 127.0.0.1 only; in the
// Compose copy under test the watcher is off (it would ask public DNS for the test domains).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, Pool, request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/http/app.js';
import { REQUEST_MESSAGE } from '../src/http/logger.js';
import { ADMIN_TOKEN_GENERATED } from '../src/ops/admin.js';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../src/protocol.js';

// CONTAINER_IMAGE: another build to check (a mutant, to see a check fail).
const IMAGE = process.env.CONTAINER_IMAGE ?? 'mdm-discovery:test';
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mdm-container-checks-'));
const run = promisify(execFile);

// --- reporting ------------------------------------------------------------------------------
let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): boolean {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  return ok;
}
function same(name: string, got: unknown, want: unknown): boolean {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return check(name, g === w, g === w ? '' : `got ${g}, want ${w}`);
}

// --- the engine -----------------------------------------------------------------------------
async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}
/** stdout and stderr of `docker logs`, apart. */
async function logsOf(container: string): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('docker', ['logs', container], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return { stdout, stderr };
}
const inspect = (container: string, format: string) =>
  docker('inspect', '--format', format, container);
/** `127.0.0.1:PORT` published for the container's port. */
async function published(container: string, port: number): Promise<string> {
  return (await docker('port', container, `${port}/tcp`)).split('\n')[0] as string;
}
/** The log lines that are JSON objects, parsed; the others left out. */
function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
/** The sign-in URLs a generated admin token was announced with. */
const announcements = (text: string) =>
  jsonLines(text)
    .filter((l) => l.msg === ADMIN_TOKEN_GENERATED)
    .map((l) => String(l.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
const health = (c: string) => inspect(c, '{{.State.Health.Status}}');
const untilHealth = (c: string, status: string, ms = 60_000) =>
  until(`${c} ${status}`, async () => ((await health(c)) === status ? true : undefined), ms);

/** The hardened `docker run` a user is told to use (docs/deployment.md), with test extras. */
async function runHardened(name: string, extra: string[]): Promise<string> {
  await docker(
    'run',
    '--detach',
    '--name',
    name,
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--publish',
    '127.0.0.1::8080',
    '--publish',
    '127.0.0.1::9090',
    // The image checks every 30 s; here every second, so that the states come quickly.
    '--health-interval',
    '1s',
    ...extra,
    IMAGE,
  );
  return name;
}

// --- HTTP -----------------------------------------------------------------------------------
const agent = new Agent({ connections: 32 });
async function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await request(url, { method: method as 'GET', headers, dispatcher: agent });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}
const ask = (origin: string, host: string, query = '', method = 'GET') =>
  get(`http://${origin}${WELL_KNOWN}${query}`, { host }, method);

/** The headers that differ from one answer to the next, or by connection. */
const VARYING = new Set(['date', 'connection', 'keep-alive']);
const stable = (headers: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(headers)
      .filter(([k]) => !VARYING.has(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );

const config = (baseUrl: string) =>
  `${JSON.stringify({
    tenants: [
      { name: 'contoso', domains: ['contoso.example'], enroll: { version: 'mdm-byod', baseUrl } },
    ],
  })}\n`;
const answerFor = (baseUrl: string) =>
  JSON.stringify({ Servers: [{ Version: 'mdm-byod', BaseURL: baseUrl }] });

// --- 1. the image ---------------------------------------------------------------------------
async function theImage() {
  console.log('== the image');
  same('runs as the node user', await inspect(IMAGE, '{{.Config.User}}'), 'node');
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  same(
    'HEALTHCHECK as the Dockerfile writes it, with no shell and no curl',
    JSON.parse(await inspect(IMAGE, '{{json .Config.Healthcheck}}')),
    {
      Test: ['CMD', 'node', '/app/dist/cli/index.js', 'healthcheck'],
      Interval: 30e9,
      Timeout: 5e9,
      StartPeriod: 10e9,
      Retries: 3,
    },
  );
  check('the Dockerfile still says so', dockerfile.includes('--interval=30s --timeout=5s'));
  const size = Number(await inspect(IMAGE, '{{.Size}}'));
  const base = Number(
    await inspect(/ARG NODE_IMAGE=(\S+)/.exec(dockerfile)?.[1] ?? 'node', '{{.Size}}'),
  );
  const parts = await docker(
    'run',
    '--rm',
    '--entrypoint',
    'du',
    IMAGE,
    '-s',
    '--apparent-size',
    '--block-size=1',
    '/app/node_modules',
    '/app/dist',
    '/usr/local/bin/node',
    '/usr/local/lib/node_modules/npm',
  );
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(
    `     image ${mb(size)}: the stand-in base ${mb(base)}, the service ${mb(size - base)}`,
  );
  for (const line of parts.split('\n')) {
    const [bytes, path] = line.split('\t');
    console.log(`       ${mb(Number(bytes)).padStart(9)}  ${path}`);
  }
}

// --- 2. hardened run: answer, headers, user, read-only, logs, admin --------------------------
async function hardenedRun() {
  console.log('== docker run --read-only --cap-drop ALL --security-opt no-new-privileges');
  const c = await runHardened('mdm-hardened', []);
  try {
    const origin = await published(c, 8080);
    const admin = await published(c, 9090);
    check(
      'published on 127.0.0.1',
      origin.startsWith('127.0.0.1:') && admin.startsWith('127.0.0.1:'),
    );
    await until('the answer', async () => ((await ask(origin, 'x')).status ? true : undefined));

    // The answer and its headers, byte for byte those of this tree's code serving the same config.
    const reference = await buildApp({
      config: await loadConfig(join(root, 'config/default.json')),
    });
    const referenceOrigin = (await reference.listen({ host: '127.0.0.1', port: 0 })).slice(7);
    const query = '?user-identifier=joe%40contoso.example&model-family=iPhone';
    for (const [what, host, q, method] of [
      ['an iPhone at contoso.example', 'contoso.example', query, 'GET'],
      ['HEAD of it', 'contoso.example', query, 'HEAD'],
      ['an Apple TV (a rule refuses it)', 'contoso.example', '?model-family=AppleTV', 'GET'],
      ['an unknown domain', 'unknown.example', query, 'GET'],
      ['no query', 'fabrikam.example', '', 'GET'],
    ] as const) {
      const got = await ask(origin, host, q, method);
      const want = await ask(referenceOrigin, host, q, method);
      same(`${what}: status and body`, [got.status, got.body], [want.status, want.body]);
      same(`${what}: headers`, stable(got.headers), stable(want.headers));
    }
    await reference.close();
    same(
      'the golden answer',
      (await ask(origin, 'contoso.example', query)).body,
      '{"Servers":[{"Version":"mdm-byod","BaseURL":"https://manage.microsoft.com/EnrollmentServer/PostReportDeviceInfoForUEV2?aadTenantId=6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a"}]}',
    );

    // Who it runs as, and what it may do.
    const status = await docker('exec', c, 'cat', '/proc/1/status');
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1];
    same(
      'the service is process 1: node serve, as the entry point says',
      (await docker('exec', c, 'cat', '/proc/1/cmdline')).split('\0').filter(Boolean),
      ['node', '/app/dist/cli/index.js', 'serve'],
    );
    same('uid 1000 (real, effective, saved, file system)', field('Uid')?.split(/\s+/), [
      '1000',
      '1000',
      '1000',
      '1000',
    ]);
    same(
      'no capabilities',
      [field('CapEff'), field('CapPrm'), field('CapBnd')],
      ['0000000000000000', '0000000000000000', '0000000000000000'],
    );
    same('no new privileges', field('NoNewPrivs'), '1');
    const write = await docker(
      'exec',
      c,
      'node',
      '-e',
      'for (const f of ["/app/x", "/tmp/x", "/etc/mdm-discovery/x", "/home/node/x"]) { try { require("fs").writeFileSync(f, ""); console.log(f + " writable") } catch (e) { console.log(f + " " + e.code) } }',
    );
    same('the root file system is read-only', write.split('\n'), [
      '/app/x EROFS',
      '/tmp/x EROFS',
      '/etc/mdm-discovery/x EROFS',
      '/home/node/x EROFS',
    ]);
    same('the container is read-only', await inspect(c, '{{.HostConfig.ReadonlyRootfs}}'), 'true');

    // The health check reaches healthy.
    await untilHealth(c, 'healthy', 30_000).then(
      () => check('HEALTHCHECK: healthy', true),
      (e: Error) => check('HEALTHCHECK: healthy', false, e.message),
    );

    // The admin page on first contact: the generated token's sign-in URL, logged once.
    const logs = await logsOf(c);
    const announced = announcements(logs.stdout);
    same('one sign-in URL in the log', announced.length, 1);
    const signIn = new URL(announced[0] ?? 'http://x/');
    same('for the container port the admin listener publishes', signIn.host, '127.0.0.1:9090');
    const anonymous = await get(`http://${admin}/status`);
    check(
      'the status page without the token: the sign-in form, not a 403',
      anonymous.status === 401 && anonymous.body.includes('action="/login"'),
      `status ${anonymous.status}`,
    );
    const signedIn = await get(`http://${admin}${signIn.pathname}${signIn.search}`);
    const cookie = String(signedIn.headers['set-cookie'] ?? '').split(';')[0] as string;
    same(
      'the sign-in URL, through the published port',
      [signedIn.status, signedIn.headers.location],
      [303, '/status'],
    );
    const page = await get(`http://${admin}/status`, { cookie });
    check(
      'then the status page',
      page.status === 200 && page.body.includes('id="tenants"'),
      `status ${page.status}`,
    );

    // Logs: JSON lines on stdout, nothing on stderr, no user-identifier in clear text.
    const after = await logsOf(c);
    const lines = after.stdout.split('\n').filter(Boolean);
    const notJson = lines.filter((l) => jsonLines(l).length === 0);
    check(
      'docker logs: every line is JSON',
      lines.length > 0 && notJson.length === 0,
      `${notJson.length} of ${lines.length} not: ${notJson[0] ?? ''}`,
    );
    same('docker logs: nothing on stderr', after.stderr, '');
    check('no user-identifier in clear text', !/joe(@|%40)contoso/.test(after.stdout));
    check(
      'the access log has the requests',
      lines.filter((l) => l.includes(REQUEST_MESSAGE)).length >= 5,
    );

    // Unhealthy when the service cannot answer: its process stopped (SIGSTOP), then back.
    await docker('kill', '--signal', 'STOP', c);
    await untilHealth(c, 'unhealthy', 60_000).then(
      () => check('HEALTHCHECK: unhealthy while the service is stopped', true),
      (e: Error) => check('HEALTHCHECK: unhealthy while the service is stopped', false, e.message),
    );
    await docker('kill', '--signal', 'CONT', c);
    await untilHealth(c, 'healthy', 30_000).then(
      () => check('HEALTHCHECK: healthy again once it answers', true),
      (e: Error) => check('HEALTHCHECK: healthy again once it answers', false, e.message),
    );
  } finally {
    await docker('rm', '--force', c);
  }
}

// --- 3. SIGHUP reloads a read-only mounted config --------------------------------------------
async function reloadOnHup() {
  console.log('== docker kill -s HUP, a config mounted read-only');
  const dir = join(work, 'hup');
  const file = join(dir, 'tenants.json');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, config('https://mdm.example/one'));
  // The file watcher off: only the signal can reload it.
  const c = await runHardened('mdm-hup', [
    '--volume',
    `${dir}:/etc/mdm-discovery:ro`,
    '--env',
    'WATCH_CONFIG=false',
    '--env',
    'ADMIN_TOKEN=a-long-enough-admin-token-0123456789',
  ]);
  try {
    const origin = await published(c, 8080);
    const body = async () => (await ask(origin, 'contoso.example')).body;
    await until(
      'the first config',
      async () => ((await body()) === answerFor('https://mdm.example/one') ? true : undefined),
      30_000,
    );
    check('serves the mounted config', true);
    writeFileSync(file, config('https://mdm.example/two'));
    await sleep(1500);
    same(
      'a change alone does nothing with WATCH_CONFIG=false',
      await body(),
      answerFor('https://mdm.example/one'),
    );
    await docker('kill', '--signal', 'HUP', c);
    await until(
      'the reload',
      async () => ((await body()) === answerFor('https://mdm.example/two') ? true : undefined),
      15_000,
    ).then(
      () => check('SIGHUP through the engine reloads it', true),
      (e: Error) => check('SIGHUP through the engine reloads it', false, e.message),
    );
    writeFileSync(file, '{"tenants": [ { "name": "broken" ');
    await docker('kill', '--signal', 'HUP', c);
    await until(
      'the refusal',
      async () => ((await logsOf(c)).stdout.includes('reload refused') ? true : undefined),
      15_000,
    ).then(
      () => check('a broken file on SIGHUP is refused, in the log', true),
      async () =>
        check(
          'a broken file on SIGHUP is refused, in the log',
          false,
          (await logsOf(c)).stdout.slice(-600),
        ),
    );
    same(
      'and the last good config still serves',
      await body(),
      answerFor('https://mdm.example/two'),
    );
    same('still running', await inspect(c, '{{.State.Running}}'), 'true');
  } finally {
    await docker('rm', '--force', c);
  }
}

// --- 4. docker stop under load ----------------------------------------------------------------
/** How a connection closed before any answer shows to a client: never read by the service. */
const UNANSWERED = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'UND_ERR_CLOSED',
]);

/** Clients asking `origin` until `stop` says so; counts by outcome, before and after `mark`. */
function load(origin: string, host: string, want: string, connections: number) {
  const pool = new Pool(`http://${origin}`, { connections, pipelining: 1 });
  // unanswered: the connection closed or refused before any answer (never read by the service);
  // wrong: an answer other than `want`, or one cut after its head arrived.
  const counts = { before: 0, failedBefore: 0, answered: 0, wrong: 0, unanswered: 0 };
  const kinds = new Map<string, number>();
  let marked = false;
  let stopped = false;
  const client = async () => {
    while (!stopped) {
      const before = !marked;
      let headed = false;
      try {
        const res = await pool.request({ path: WELL_KNOWN, method: 'GET', headers: { host } });
        headed = true;
        const body = await res.body.text();
        const ok = res.statusCode === 200 && body === want;
        if (before) counts.before++;
        if (!ok) {
          counts.wrong++;
          kinds.set(`status ${res.statusCode}`, (kinds.get(`status ${res.statusCode}`) ?? 0) + 1);
        } else counts.answered++;
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        if (before) counts.failedBefore++;
        if (!headed && UNANSWERED.has(code)) counts.unanswered++;
        else {
          counts.wrong++;
          kinds.set(code, (kinds.get(code) ?? 0) + 1);
        }
        await sleep(5);
      }
    }
  };
  const clients = Array.from({ length: connections }, client);
  return {
    counts,
    kinds,
    mark: () => {
      marked = true;
    },
    stop: async () => {
      stopped = true;
      await Promise.all(clients);
      await pool.close();
    },
  };
}

async function stopUnderLoad() {
  console.log('== docker stop under load');
  // One client address sends all the load: the rate limit (per address) is off for it.
  const c = await runHardened('mdm-stop', ['--env', 'RATE_LIMIT_PER_MINUTE=0']);
  try {
    const origin = await published(c, 8080);
    const want = (await until('the answer', async () => {
      const a = await ask(origin, 'contoso.example');
      return a.status === 200 ? a.body : undefined;
    })) as string;
    const clients = load(origin, 'contoso.example', want, 16);
    await sleep(2000);
    clients.mark();
    const started = Date.now();
    await docker('stop', '--time', '30', c);
    const took = Date.now() - started;
    await sleep(500);
    await clients.stop();
    const { counts } = clients;
    console.log(`     ${JSON.stringify(counts)} ${JSON.stringify([...clients.kinds])}`);
    check('answers before the stop', counts.answered > 1000, `${counts.answered}`);
    same('no request sent before the stop failed', counts.failedBefore, 0);
    same('no wrong or cut answer (only connections never answered)', counts.wrong, 0);
    same('exit code 0 (drained, not killed)', await inspect(c, '{{.State.ExitCode}}'), '0');
    check('within the grace period', took < 30_000, `${took} ms`);
    console.log(`     docker stop took ${took} ms`);
    const logs = (await logsOf(c)).stdout;
    check(
      'logged the drain',
      logs.includes('"msg":"shutting down"') && logs.includes('"how":"drained"'),
    );
  } finally {
    await docker('rm', '--force', c);
  }
}

// --- 5. compose.yaml --------------------------------------------------------------------------
async function compose(
  file: string,
  project: string,
  env: Record<string, string>,
  ...args: string[]
) {
  const { stdout } = await run(
    'docker-compose',
    ['--project-name', project, '--file', file, ...args],
    {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout.trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A copy of the repository's Compose files in `dir`, its config in config-local. */
function project(dir: string, edit: (compose: string) => string) {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['config-local', 'deploy/compose'])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), edit(readFileSync(join(root, 'compose.yaml'), 'utf8')));
  for (const f of ['scale-out.yaml', 'nginx.conf']) {
    writeFileSync(join(dir, 'deploy/compose', f), readFileSync(join(root, 'deploy/compose', f)));
  }
  writeFileSync(join(dir, 'config-local', 'tenants.json'), config('https://mdm.example/compose'));
}

const containersOf = async (file: string, name: string, service: string) =>
  (await compose(file, name, {}, 'ps', '-q', service)).split('\n').filter(Boolean);

async function composeFile() {
  for (const secret of [false, true]) {
    const label = secret ? 'compose.yaml with the admin token as a secret' : 'compose.yaml';
    console.log(`== ${label}: up, answer, stop, down`);
    const dir = join(work, secret ? 'compose-secret' : 'compose');
    const token = 'a-token-from-a-docker-secret-0123456789';
    project(dir, (text) => {
      const edited = text.replace('WATCH_INTERVAL: 5m', 'WATCH_INTERVAL: "off"');
      // The lines the file says to uncomment for a lasting token.
      return secret
        ? edited
            .replace('# ADMIN_TOKEN_FILE:', 'ADMIN_TOKEN_FILE:')
            .replace('    # secrets: [admin_token]', '    secrets: [admin_token]')
            .replace(/^# (secrets:\n)# ( {2}admin_token:\n)# ( {4}file: .*)$/m, '$1$2$3')
        : edited;
    });
    if (secret) writeFileSync(join(dir, 'admin-token.txt'), `${token}\n`);
    const file = join(dir, 'compose.yaml');
    const name = secret ? 'mdmsecret' : 'mdmcompose';
    const env = {
      MDM_HTTP_PORT: String(await freePort()),
      MDM_ADMIN_PORT: String(await freePort()),
    };
    try {
      await compose(file, name, env, 'up', '--detach', '--no-build', 'mdm-discovery');
      const [c] = await containersOf(file, name, 'mdm-discovery');
      const id = c as string;
      const origin = `127.0.0.1:${env.MDM_HTTP_PORT}`;
      const admin = `127.0.0.1:${env.MDM_ADMIN_PORT}`;
      const answered = await until('the answer', async () => {
        const a = await ask(origin, 'contoso.example');
        return a.status === 200 ? a.body : undefined;
      }).catch(() => '');
      same(
        'answers the config of ./config-local',
        answered,
        answerFor('https://mdm.example/compose'),
      );
      same(
        'read-only, no capabilities, no new privileges, the config read-only',
        JSON.parse(
          await inspect(
            id,
            '[{{json .HostConfig.ReadonlyRootfs}},{{json .HostConfig.CapDrop}},{{json .HostConfig.SecurityOpt}},{{range .Mounts}}{{if eq .Destination "/etc/mdm-discovery"}}{{json .RW}}{{end}}{{end}}]',
          ),
        ),
        [true, ['ALL'], ['no-new-privileges:true'], false],
      );
      const logs = (await logsOf(id)).stdout;
      const announced = announcements(logs);
      if (secret) {
        same('no token generated or logged', announced.length, 0);
        check('the token of the secret is not in the log', !logs.includes(token));
        const page = await get(`http://${admin}/status`, { authorization: `Bearer ${token}` });
        same('the status page with the secret token', page.status, 200);
        same('without it: the sign-in form', (await get(`http://${admin}/status`)).status, 401);
      } else {
        same('one sign-in URL in the log', announced.length, 1);
        const url = new URL(announced[0] ?? 'http://x/');
        // Published at another port here than the file's default 9090.
        const signedIn = await get(`http://${admin}${url.pathname}${url.search}`);
        const cookie = String(signedIn.headers['set-cookie'] ?? '').split(';')[0] as string;
        const page = await get(`http://${admin}/status`, { cookie });
        same('the logged URL opens the status page', [signedIn.status, page.status], [303, 200]);
      }
      await compose(file, name, env, 'stop');
      same('compose stop: exit code 0', await inspect(id, '{{.State.ExitCode}}'), '0');
      await compose(file, name, env, 'down');
      const left = await docker(
        'ps',
        '--all',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${name}`,
      );
      const networks = await docker(
        'network',
        'ls',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${name}`,
      );
      same('compose down: no container or network left', [left, networks], ['', '']);
    } catch (error) {
      check(`${label}`, false, (error as Error).message.slice(0, 800));
      await compose(file, name, env, 'down').catch(() => undefined);
    }
  }
}

// --- 6. the scale-out: replicas behind nginx, restarted one at a time under load ---------------
async function scaleOut() {
  console.log(
    '== deploy/compose/scale-out.yaml: 3 replicas behind nginx, a rolling restart under load',
  );
  const dir = join(work, 'scale');
  project(dir, (text) => text);
  const file = join(dir, 'deploy/compose/scale-out.yaml');
  // One client address sends all the load: the rate limit (per address) is off for it.
  const original = readFileSync(file, 'utf8');
  const edited = original.replace(
    '      LOG_LEVEL: info\n',
    '      LOG_LEVEL: info\n      RATE_LIMIT_PER_MINUTE: "0"\n',
  );
  check('the scale-out copy under test has the rate limit off', edited !== original);
  writeFileSync(file, edited);
  const name = 'mdmscale';
  const env = { MDM_HTTP_PORT: String(await freePort()) };
  try {
    await compose(file, name, env, 'up', '--detach', '--no-build', '--scale', 'mdm-discovery=3');
    const replicas = await containersOf(file, name, 'mdm-discovery');
    same('three replicas', replicas.length, 3);
    for (const r of replicas) await untilHealth(r, 'healthy', 60_000);
    const origin = `127.0.0.1:${env.MDM_HTTP_PORT}`;
    const want = answerFor('https://mdm.example/compose');
    await until('the proxy', async () =>
      (await ask(origin, 'contoso.example')).body === want ? true : undefined,
    );
    const clients = load(origin, 'contoso.example', want, 16);
    await sleep(1000);
    const restartedAt = Date.now();
    for (const r of replicas) {
      await docker('restart', '--time', '30', r);
      await untilHealth(r, 'healthy', 60_000);
      await sleep(1000);
    }
    const took = Date.now() - restartedAt;
    await clients.stop();
    const { counts } = clients;
    console.log(
      `     ${JSON.stringify(counts)} ${JSON.stringify([...clients.kinds])}, restarts took ${took} ms`,
    );
    check(
      'answers through the proxy during the restarts',
      counts.answered > 1000,
      `${counts.answered}`,
    );
    same('no failed request (wrong, cut or unanswered)', [counts.wrong, counts.unanswered], [0, 0]);
    for (const [i, r] of replicas.entries()) {
      const started = Date.parse(await inspect(r, '{{.State.StartedAt}}'));
      const served = (await logsOf(r)).stdout
        .split('\n')
        .filter((l) => l.includes(REQUEST_MESSAGE)).length;
      check(
        `replica ${i + 1} restarted, and served`,
        started >= restartedAt - 1000 && served > 0,
        `${served} requests`,
      );
    }
    await compose(file, name, env, 'down');
  } catch (error) {
    check('the scale-out', false, (error as Error).message.slice(0, 800));
    await compose(file, name, env, 'down').catch(() => undefined);
  }
}

// --- main -------------------------------------------------------------------------------------
await docker('tag', IMAGE, 'mdm-discovery:0.1.0');
// CONTAINER_STEPS: some of the steps, by function name (comma-separated).
const only = process.env.CONTAINER_STEPS?.split(',');
const steps = [theImage, hardenedRun, reloadOnHup, stopUnderLoad, composeFile, scaleOut];
for (const step of steps.filter((s) => only === undefined || only.includes(s.name))) {
  const started = Date.now();
  try {
    await step();
  } catch (error) {
    check(step.name, false, (error as Error).stack ?? String(error));
  }
  console.log(`     (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
await agent.close();
rmSync(work, { recursive: true, force: true });
console.log(`container: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
