// npm run soak: concurrent clients on loopback against the built service while its config is
// replaced every 200 ms, cycling through two valid configs (A, B) and an invalid one (C); then
// SIGTERM while the clients are still sending. Every answer is checked against an oracle written
// here, independently of the service's code. Prints the counts and `N passed, N failed`; exits 1
// when a check fails. SOAK_SECONDS (60), SOAK_CONNECTIONS (16), SOAK_SWAP_MS (200).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool, request } from 'undici';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../src/protocol.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
const SWAP_MS = Number(process.env.SOAK_SWAP_MS ?? 200);
const GRACE_MS = 10_000;
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mdm-soak-'));

// --- the configs, and the oracle ------------------------------------------------------------
type Variant = 'a' | 'b';
const server = (version: string, url: string) => ({ version, baseUrl: url });
function config(variant: string) {
  const at = (path: string) => `https://${variant}.example/${path}`;
  return {
    tenants: [
      {
        name: 'contoso',
        domains: ['contoso.example', '*.contoso.example'],
        enroll: server('mdm-byod', at('contoso')),
      },
      {
        name: 'fabrikam',
        domains: ['fabrikam.example'],
        enroll: server('mdm-byod', at('fabrikam')),
        rules: [
          {
            name: 'macs',
            when: { modelFamilies: ['Mac'] },
            enroll: server('mdm-adde', at('fabrikam-mac')),
          },
        ],
      },
      {
        name: 'northwind',
        domains: ['northwind.example'],
        enroll: server('mdm-byod', at('northwind')),
        rules: [
          { name: 'half', when: { percent: 50 }, enroll: server('mdm-adde', at('northwind-half')) },
        ],
      },
    ],
  };
}
const A = config('a');
const B = config('b');
// C would answer from c.example, were it ever served; its last tenant makes it invalid.
const C = {
  tenants: [
    ...config('c').tenants,
    {
      name: 'broken',
      domains: ['broken.example'],
      enroll: { intune: { tenantId: 'YourAADTenantID' } },
    },
  ],
};

/** What a config answers, by docs/protocol.md and docs/routing.md, computed here and not by the service. */
function expected(
  variant: Variant,
  host: string,
  user: string | undefined,
  family: string | undefined,
): string {
  const at = (path: string) => `https://${variant}.example/${path}`;
  const body = (version: string, url: string) =>
    JSON.stringify({ Servers: [{ Version: version, BaseURL: url }] });
  if (host === 'contoso.example' || host.endsWith('.contoso.example'))
    return body('mdm-byod', at('contoso'));
  if (host === 'fabrikam.example')
    return family === 'Mac'
      ? body('mdm-adde', at('fabrikam-mac'))
      : body('mdm-byod', at('fabrikam'));
  // The README's percent rule: SHA-256 of "rule name\nlower-cased user", first 4 bytes, mod 10,000.
  const bucket =
    user === undefined
      ? Number.POSITIVE_INFINITY
      : createHash('sha256').update(`half\n${user.toLowerCase()}`).digest().readUInt32BE(0) %
        10_000;
  return bucket < 5000 ? body('mdm-adde', at('northwind-half')) : body('mdm-byod', at('northwind'));
}
const NOT_FOUND = '{"code":"not_found","message":"Not Found"}';

interface Ask {
  readonly host: string;
  readonly path: string;
  readonly a?: string;
  readonly b?: string;
}
const HOSTS = [
  'contoso.example',
  'mail.contoso.example',
  'fabrikam.example',
  'northwind.example',
  'nobody.invalid',
];
const FAMILIES = ['iPhone', 'iPad', 'Mac', 'RealityDevice', undefined];
function randomAsk(): Ask {
  const host = HOSTS[Math.floor(Math.random() * HOSTS.length)] as string;
  const family = FAMILIES[Math.floor(Math.random() * FAMILIES.length)];
  const user = Math.random() < 0.9 ? `user${Math.floor(Math.random() * 5000)}@${host}` : undefined;
  const query = [user && `user-identifier=${user}`, family && `model-family=${family}`]
    .filter(Boolean)
    .join('&');
  const path = query === '' ? WELL_KNOWN : `${WELL_KNOWN}?${query}`;
  if (host === 'nobody.invalid') return { host, path };
  return { host, path, a: expected('a', host, user, family), b: expected('b', host, user, family) };
}

// --- the service ----------------------------------------------------------------------------
const configFile = join(work, 'config.json');
function install(document: object) {
  // Atomic replace, as an editor or a ConfigMap update does.
  writeFileSync(`${configFile}.new`, JSON.stringify(document));
  renameSync(`${configFile}.new`, configFile);
}
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

install(A);
/** A port nothing listens on now (a random one may be taken, and another server answer for it). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
const port = await freePort();
const adminPort = await freePort();
const logFile = join(work, 'service.log');
const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/cli/index.js'), 'serve'], {
  env: {
    PATH: process.env.PATH ?? '',
    MDM_DISCOVERY_CONFIG: configFile,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    WATCH_CONFIG: 'false',
    // One client address for every request: the soak is not about the rate limit.
    RATE_LIMIT_PER_MINUTE: '0',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
  },
  stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
});
const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
  child.on('exit', (code) => resolve({ code, at: performance.now() })),
);
const origin = `http://127.0.0.1:${port}`;
/** The service's own log, for a failure that needs it. */
const logTail = () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
// Ready: this service's admin listener says so (not merely something answering on the port).
for (let i = 0; ; i++) {
  if (child.exitCode !== null) {
    throw new Error(`the service exited (${child.exitCode}) before it was ready:\n${logTail()}`);
  }
  const ready = await request(`http://127.0.0.1:${adminPort}/readyz`).then(
    async (res) => {
      await res.body.text();
      return res.statusCode === 200;
    },
    () => false,
  );
  if (ready) break;
  if (i > 2000) throw new Error(`the service did not start:\n${logTail()}`);
  await new Promise((r) => setTimeout(r, 10));
}
const pid = child.pid as number;
const rssStart = rssMb(pid);

// --- load -----------------------------------------------------------------------------------
const counts = {
  requests: 0,
  answeredA: 0,
  answeredB: 0,
  knownNon2xx: 0,
  unknownWrong: 0,
  mismatched: 0,
  fromC: 0,
  connectionErrors: 0,
};
const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
let stopLoad = false;

function classify(ask: Ask, status: number, body: string) {
  counts.requests++;
  if (ask.a === undefined) {
    if (status !== 404 || body !== NOT_FOUND) counts.unknownWrong++;
  } else if (status < 200 || status > 299) counts.knownNon2xx++;
  else if (body === ask.a) counts.answeredA++;
  else if (body === ask.b) counts.answeredB++;
  else if (body.includes('c.example')) counts.fromC++;
  else counts.mismatched++;
}

async function client() {
  while (!stopLoad) {
    const ask = randomAsk();
    try {
      const res = await pool.request({
        path: ask.path,
        method: 'GET',
        headers: { host: ask.host },
      });
      classify(ask, res.statusCode, await res.body.text());
    } catch {
      counts.connectionErrors++;
    }
  }
}

let swaps = 0;
let invalidSwaps = 0;
const cycle = [A, B, C];
const swapper = setInterval(() => {
  const next = cycle[++swaps % 3] as object;
  if (next === C) invalidSwaps++;
  install(next);
  if (child.exitCode !== null || child.signalCode !== null) {
    console.error(
      `soak: the service is gone (${child.exitCode ?? child.signalCode}):\n${logTail()}`,
    );
    process.exit(1);
  }
  process.kill(pid, 'SIGHUP');
}, SWAP_MS);

console.log(
  `soak: ${SECONDS} s, ${CONNECTIONS} connections, config replaced every ${SWAP_MS} ms (A, B, invalid C)`,
);
const clients = Array.from({ length: CONNECTIONS }, client);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
clearInterval(swapper);
stopLoad = true;
await Promise.all(clients);
const rssEnd = rssMb(pid);

const metrics = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
const metric = (name: string) =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
const reloadFailures = metric('mdm_discovery_config_reload_failures_total');
const generation = metric('mdm_discovery_config_generation');

// --- shutdown under load --------------------------------------------------------------------
const shutdown = {
  sentBefore: 0,
  answeredBefore: 0,
  failedBefore: 0,
  retried: 0,
  answeredAfter: 0,
  refusedAfter: 0,
  /** Reset or closed before any answer: never read by the service, safe to send again. */
  unansweredAfter: 0,
  otherAfter: 0,
};
const otherKinds = new Map<string, number>();
const other = (kind: string) => {
  shutdown.otherAfter++;
  otherKinds.set(kind, (otherKinds.get(kind) ?? 0) + 1);
};
let signalAt = Number.POSITIVE_INFINITY;
let serviceGone = false;
void exited.then(() => {
  serviceGone = true;
});
const drainPool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });

/** How a connection the service closes shows, to a request it never read. */
const UNANSWERED = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Like Apple's device and any HTTP client: a GET whose kept-alive connection closed before an answer is sent again, once. */
async function askOnce(ask: Ask, retry: boolean): Promise<{ status: number; body: string }> {
  try {
    const res = await drainPool.request({
      path: ask.path,
      method: 'GET',
      headers: { host: ask.host },
    });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (error) {
    if (retry && UNANSWERED.has((error as { code?: string }).code ?? '')) {
      shutdown.retried++;
      return askOnce(ask, false);
    }
    throw error;
  }
}

async function drainClient() {
  while (!serviceGone) {
    const ask = randomAsk();
    const before = performance.now() < signalAt;
    if (before) shutdown.sentBefore++;
    try {
      const { status, body } = await askOnce(ask, true);
      const normal =
        ask.a === undefined
          ? status === 404 && body === NOT_FOUND
          : body === ask.a || body === ask.b;
      if (before) {
        if (normal) shutdown.answeredBefore++;
        else shutdown.failedBefore++;
      } else if (normal) shutdown.answeredAfter++;
      else other(`status ${status}`);
    } catch (error) {
      if (before) shutdown.failedBefore++;
      else {
        const code = (error as { code?: string }).code ?? String(error);
        if (code === 'ECONNREFUSED') shutdown.refusedAfter++;
        else if (UNANSWERED.has(code)) shutdown.unansweredAfter++;
        else other(code);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
}
const drainClients = Array.from({ length: CONNECTIONS }, drainClient);
await new Promise((r) => setTimeout(r, 1000));
signalAt = performance.now();
child.kill('SIGTERM');
const exit = await exited;
await Promise.all(drainClients);
await Promise.all([pool.close(), drainPool.close()]);
const exitMs = exit.at - signalAt;

// --- the log: no user-identifier in clear text ----------------------------------------------
let logLines = 0;
let addressesInLog = 0;
for await (const line of createInterface({ input: createReadStream(logFile) })) {
  logLines++;
  if (/user\d+(@|%40)/i.test(line)) addressesInLog++;
}
rmSync(work, { recursive: true, force: true });

// --- report ---------------------------------------------------------------------------------
const checks: [string, boolean][] = [
  [`non-2xx answers for known hosts: ${counts.knownNon2xx}`, counts.knownNon2xx === 0],
  [`connection errors: ${counts.connectionErrors}`, counts.connectionErrors === 0],
  [`answers matching neither A nor B: ${counts.mismatched}`, counts.mismatched === 0],
  [`answers from the invalid config C: ${counts.fromC}`, counts.fromC === 0],
  [
    `unknown-host answers other than the one 404: ${counts.unknownWrong}`,
    counts.unknownWrong === 0,
  ],
  [
    `both configs served: A ${counts.answeredA}, B ${counts.answeredB}`,
    counts.answeredA > 0 && counts.answeredB > 0,
  ],
  [
    // At most one reload per signal; on a loaded machine a reload signalled for B may read the
    // file after C replaced it, so refusals may exceed the swaps to C (C is never served: above).
    `invalid reloads refused: ${reloadFailures} (${invalidSwaps} swaps to C); generation ${generation} after ${swaps} swaps`,
    reloadFailures > 0 && reloadFailures <= swaps && generation > 1,
  ],
  [
    `log lines holding a user-identifier: ${addressesInLog} of ${logLines}`,
    addressesInLog === 0 && logLines > 0,
  ],
  [
    `RSS ${rssStart.toFixed(0)} MB at start, ${rssEnd.toFixed(0)} MB at end`,
    rssEnd < rssStart * 2 + 50,
  ],
  [
    `requests sent before SIGTERM: ${shutdown.sentBefore}, answered normally ${shutdown.answeredBefore}, failed ${shutdown.failedBefore} (${shutdown.retried} sent again after their connection closed unanswered)`,
    shutdown.failedBefore === 0 && shutdown.sentBefore > 0,
  ],
  [
    `after SIGTERM: ${shutdown.answeredAfter} answered normally, ${shutdown.refusedAfter} refused at connect, ${shutdown.unansweredAfter} closed or reset unanswered, ${shutdown.otherAfter} other${otherKinds.size > 0 ? ` (${[...otherKinds].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}`,
    shutdown.otherAfter === 0,
  ],
  [
    `exit code ${exit.code}, ${exitMs.toFixed(0)} ms after SIGTERM (grace ${GRACE_MS} ms)`,
    exit.code === 0 && exitMs < GRACE_MS,
  ],
];
console.log(
  `requests: ${counts.requests} in ${SECONDS} s (${Math.round(counts.requests / SECONDS)}/s)`,
);
for (const [text, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${text}`);
const failed = checks.filter(([, ok]) => !ok).length;
console.log(`soak: ${checks.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
