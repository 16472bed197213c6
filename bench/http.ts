// npm run bench: the built service in production settings against a bare node:http server that
// writes the same bytes, in one run, interleaved (A B A B …), ratios printed and written to
// docs/BENCHMARKS.md. Needs wrk (Debian: apt-get install wrk); pins with taskset where it exists.
// HEAD is not measured: wrk waits for a body after a HEAD answer that has a Content-Length.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mdm-bench-'));
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
const pin = (cpu: number, command: string[]) =>
  hasTaskset ? ['taskset', '-c', String(cpu), ...command] : command;
if (spawnSync('wrk', ['--version']).error) {
  console.error('npm run bench needs wrk: apt-get install wrk');
  process.exit(2);
}
const TENANT_ID = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';
const intune = { intune: { tenantId: TENANT_ID } };

// --- configs -------------------------------------------------------------------------------
function writeConfig(name: string, tenants: object[]): string {
  const file = join(work, name);
  writeFileSync(file, JSON.stringify({ tenants }));
  return file;
}
const many = (n: number, rules: boolean) =>
  Array.from({ length: n }, (_, i) => ({
    name: `t${i}`,
    domains: [`t${i}.example`],
    enroll: intune,
    ...(rules
      ? {
          rules: [
            {
              name: 'macs',
              when: { modelFamilies: ['Mac'] },
              enroll: { version: 'mdm-adde', baseUrl: 'https://mdm.example/adde' },
            },
          ],
        }
      : {}),
  }));
writeFileSync(
  join(work, 'cohort.txt'),
  Array.from({ length: 100_000 }, (_, i) => `user${i}@big.example`).join('\n'),
);
const configs = {
  one: writeConfig('one.json', [{ name: 'contoso', domains: ['contoso.example'], enroll: intune }]),
  tenK: writeConfig('ten-k.json', many(10_000, false)),
  hundredK: writeConfig('hundred-k.json', [
    ...many(100_000, true),
    {
      name: 'big',
      domains: ['big.example'],
      enroll: intune,
      rules: [
        {
          name: 'cohort',
          when: { usersFile: 'cohort.txt' },
          enroll: { version: 'mdm-byod', baseUrl: 'https://new.example/byod' },
        },
        {
          name: 'no-watch',
          when: { modelFamilies: ['Watch', 'AppleTV'] },
          reject: { message: 'No.' },
        },
        {
          name: 'eu',
          when: { userDomains: ['*.eu.big.example'] },
          enroll: { version: 'mdm-byod', baseUrl: 'https://eu.example/byod' },
        },
        { name: 'testers', when: { userPatterns: ['test-*@big.example'] }, notFound: true },
        {
          name: 'everyone-else',
          when: { percent: 100 },
          enroll: { version: 'mdm-adde', baseUrl: 'https://late.example/adde' },
        },
      ],
    },
  ]),
};

interface Scenario {
  readonly name: string;
  readonly config: keyof typeof configs;
  readonly host: string;
  readonly path: string;
  readonly method: 'GET' | 'HEAD';
  readonly status: number;
  /** Settings changed from production, to show what one feature costs. */
  readonly env?: Readonly<Record<string, string>>;
}
const query = (user: string, family = 'iPhone') =>
  `/.well-known/com.apple.remotemanagement?user-identifier=${user}&model-family=${family}`;
const scenarios: Scenario[] = [
  {
    name: '1 tenant',
    config: 'one',
    host: 'contoso.example',
    path: query('joe@contoso.example'),
    method: 'GET',
    status: 200,
  },

  // What each production feature costs: the same request with it turned off.
  {
    name: '1 tenant, request log off (LOG_LEVEL=warn)',
    config: 'one',
    host: 'contoso.example',
    path: query('joe@contoso.example'),
    method: 'GET',
    status: 200,
    env: { LOG_LEVEL: 'warn' },
  },
  {
    name: '1 tenant, rate limit off',
    config: 'one',
    host: 'contoso.example',
    path: query('joe@contoso.example'),
    method: 'GET',
    status: 200,
    env: { RATE_LIMIT_PER_MINUTE: '0' },
  },
  {
    name: '1 tenant, request log and rate limit off',
    config: 'one',
    host: 'contoso.example',
    path: query('joe@contoso.example'),
    method: 'GET',
    status: 200,
    env: { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' },
  },
  {
    name: 'unknown host (404)',
    config: 'one',
    host: 'nobody.example',
    path: query('joe@nobody.example'),
    method: 'GET',
    status: 404,
  },
  {
    name: '10,000 tenants',
    config: 'tenK',
    host: 't5000.example',
    path: query('joe@t5000.example'),
    method: 'GET',
    status: 200,
  },
  {
    name: '100,000 tenants with rules',
    config: 'hundredK',
    host: 't50000.example',
    path: query('joe@t50000.example'),
    method: 'GET',
    status: 200,
  },
  {
    name: '100,000 tenants, late rule',
    config: 'hundredK',
    host: 'big.example',
    path: query('someone@big.example'),
    method: 'GET',
    status: 200,
  },
];

// BENCH_SCENARIOS=text: only the scenarios whose name contains it (docs/BENCHMARKS.md is then not
// written: it holds whole runs only).
const only = process.env.BENCH_SCENARIOS;
const chosen = only === undefined ? scenarios : scenarios.filter((s) => s.name.includes(only));

// --- processes -----------------------------------------------------------------------------
let nextPort = 31000 + Math.floor(Math.random() * 1000) * 4;
async function waitFor(url: string, headers: Record<string, string> = {}): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      const res = await request(url, { headers });
      await res.body.text();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`${url} did not answer`);
}
function rss(pid: number): number {
  return (
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
  );
}

interface Service {
  readonly child: ChildProcess;
  readonly port: number;
  readonly startMs: number;
  readonly loadMs: number;
  readonly rssBytes: number;
}
async function startService(
  config: string,
  overrides: Readonly<Record<string, string>> = {},
): Promise<Service> {
  const port = nextPort++;
  const admin = nextPort++;
  const logFile = join(work, `service-${port}.log`);
  const started = performance.now();
  const child = spawn(
    pin(0, [process.execPath, join(root, 'dist/cli/index.js'), 'serve'])[0] as string,
    pin(0, [process.execPath, join(root, 'dist/cli/index.js'), 'serve']).slice(1),
    {
      // Production settings: info logging (to /dev/null here), metrics, rate limit as shipped.
      env: {
        PATH: process.env.PATH ?? '',
        MDM_DISCOVERY_CONFIG: config,
        PORT: String(port),
        ADMIN_PORT: String(admin),
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        TRUST_PROXY: '127.0.0.1',
        WATCH_CONFIG: 'false',
        ...overrides,
      },
      // To a file: a pipe would fill while this process waits for wrk, and stall the service.
      stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
    },
  );
  await waitFor(`http://127.0.0.1:${port}/.well-known/com.apple.remotemanagement`, {
    host: 'contoso.example',
  });
  const startMs = performance.now() - started;
  const loadMs = Number(/"loadMs":(\d+)/.exec(readFileSync(logFile, 'utf8'))?.[1] ?? Number.NaN);
  return { child, port, startMs, loadMs, rssBytes: rss(child.pid as number) };
}

async function startBaseline(
  service: Service,
  scenario: Scenario,
): Promise<{ child: ChildProcess; port: number }> {
  const res = await request(`http://127.0.0.1:${service.port}${scenario.path}`, {
    method: scenario.method,
    headers: { host: scenario.host },
  });
  const body = await res.body.text();
  if (res.statusCode !== scenario.status)
    throw new Error(`${scenario.name}: service answered ${res.statusCode}`);
  const headers = Object.fromEntries(
    Object.entries(res.headers).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)),
  );
  const port = nextPort++;
  const command = pin(0, [process.execPath, join(root, 'bench/baseline.mjs')]);
  const child = spawn(command[0] as string, command.slice(1), {
    env: {
      PORT: String(port),
      BASELINE_RESPONSE: JSON.stringify({ status: res.statusCode, headers, body }),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(`http://127.0.0.1:${port}/`);
  return { child, port };
}

interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly unexpected: number;
}
function wrk(port: number, scenario: Scenario, seconds: number): Run {
  const out = execFileSync(
    pin(1, ['wrk'])[0] as string,
    [
      ...pin(1, ['wrk']).slice(1),
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      join(root, 'bench/random-client.lua'),
      '-H',
      `Host: ${scenario.host}`,
      `http://127.0.0.1:${port}${scenario.path}`,
    ],
    { encoding: 'utf8', env: { ...process.env, BENCH_METHOD: scenario.method } },
  );
  const ms = (text: string | undefined) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    if (!m) return Number.NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms(/\n\s+50%\s+(\S+)/.exec(out)?.[1]),
    p99: ms(/\n\s+99%\s+(\S+)/.exec(out)?.[1]),
    // Answers other than the scenario's status (a 429 would show here).
    unexpected: scenario.status === 200 ? non2xx : requests - non2xx,
  };
}

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// --- run -----------------------------------------------------------------------------------
interface Row {
  scenario: string;
  service: Run;
  baseline: Run;
  unexpected: number;
  /** The 1-tenant service, in the same rounds (scenarios on other configs). */
  reference?: Run;
}
const rows: Row[] = [];
const startup: Record<string, Service> = {};
// One service per config and settings; start-up figures from the production settings only.
const groups = new Map<string, Scenario[]>();
for (const scenario of chosen) {
  const key = `${scenario.config} ${JSON.stringify(scenario.env ?? {})}`;
  groups.set(key, [...(groups.get(key) ?? []), scenario]);
}
// The 1-tenant service in production settings, kept running: scenarios on other configs measure
// it in the same rounds, so that "÷ 1 tenant" compares two services measured side by side, not
// minutes apart on a machine whose speed drifts.
const oneScenario = scenarios[0] as Scenario;
const reference = await startService(configs.one);
for (const group of groups.values()) {
  const first = group[0] as Scenario;
  const service = await startService(configs[first.config], first.env);
  if (first.env === undefined) startup[first.config] = service;
  for (const scenario of group) {
    const baseline = await startBaseline(service, scenario);
    wrk(service.port, scenario, 2); // warm-up
    wrk(baseline.port, scenario, 2);
    const a: Run[] = [];
    const b: Run[] = [];
    const c: Run[] = [];
    const againstReference = scenario.config !== 'one';
    if (againstReference) wrk(reference.port, oneScenario, 2);
    for (let r = 0; r < ROUNDS; r++) {
      a.push(wrk(service.port, scenario, SECONDS));
      b.push(wrk(baseline.port, scenario, SECONDS));
      if (againstReference) c.push(wrk(reference.port, oneScenario, SECONDS));
    }
    await stop(baseline.child);
    const pick = (runs: Run[]): Run => ({
      rps: median(runs.map((x) => x.rps)),
      p50: median(runs.map((x) => x.p50)),
      p99: median(runs.map((x) => x.p99)),
      unexpected: runs.reduce((n, x) => n + x.unexpected, 0),
    });
    const row: Row = {
      scenario: scenario.name,
      service: pick(a),
      baseline: pick(b),
      unexpected: pick(a).unexpected,
      ...(againstReference ? { reference: pick(c) } : {}),
    };
    rows.push(row);
    console.log(
      `${scenario.name}: ${Math.round(row.service.rps)} vs ${Math.round(row.baseline.rps)} req/s (${(row.service.rps / row.baseline.rps).toFixed(2)})`,
    );
  }
  await stop(service.child);
}
await stop(reference.child);
rmSync(work, { recursive: true, force: true });

// Against the 1-tenant service measured in the same rounds where there is one (other configs);
// for the 1-tenant config's own variants, against its 1-tenant row, measured just before.
const oneRps = rows.find((r) => r.scenario === oneScenario.name)?.service.rps ?? Number.NaN;
const perOne = (r: Row) => r.service.rps / (r.reference?.rps ?? oneRps);
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const table = [
  '| scenario | service req/s | p50 ms | p99 ms | baseline req/s | baseline p99 ms | ÷ baseline | p99 ÷ baseline p99 | ÷ 1 tenant, same rounds | unexpected answers |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${fmt(r.service.rps)} | ${r.service.p50.toFixed(2)} | ${r.service.p99.toFixed(2)} | ${fmt(r.baseline.rps)} | ${r.baseline.p99.toFixed(2)} | ${(r.service.rps / r.baseline.rps).toFixed(2)} | ${(r.service.p99 / r.baseline.p99).toFixed(2)} | ${perOne(r).toFixed(2)} | ${r.unexpected} |`,
  ),
];
const start = [
  '| config | start to first answer, ms | load and compile, ms | RSS after load, MB |',
  '| --- | ---: | ---: | ---: |',
  ...Object.entries(startup).map(
    ([k, s]) =>
      `| ${k === 'one' ? '1 tenant' : k === 'tenK' ? '10,000 tenants' : '100,000 tenants, rules, 100,000-line users file'} | ${Math.round(s.startMs)} | ${s.loadMs} | ${Math.round(s.rssBytes / 1048576)} |`,
  ),
];
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, wrk ${/wrk (\S+)/.exec(spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? ''}`;
const report = `# Benchmarks

Written by \`npm run bench\` (bench/http.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine}.
Service and baseline ${hasTaskset ? 'pinned to CPU 0, wrk to CPU 1' : 'unpinned (no taskset)'}; \`wrk -t1 -c${CONNECTIONS}\`, a 2 s warm-up, then
${ROUNDS} interleaved rounds of ${SECONDS} s each (service, baseline, service, …; for 10,000 and
100,000 tenants the 1-tenant service joins each round, for "÷ 1 tenant"); medians.

The service runs as shipped for production: the built JS, \`LOG_LEVEL=info\` (one JSON line per
request, written synchronously to a file), helmet's headers, Prometheus metrics, and the
per-client rate limit on at its default (6000/min). Each wrk request carries a random
\`X-Forwarded-For\` from a trusted proxy (\`TRUST_PROXY=127.0.0.1\`), so the rate limit counts
devices as it would behind a proxy; the baseline gets the same header and ignores it. The
baseline is a bare \`node:http\` server writing the very status, headers and body the service
answered for the scenario. "Unexpected answers" counts responses with another status than the
scenario's (a 429 would show there).

${table.join('\n')}

${start.join('\n')}

Identical runs vary by about ±20 % on these machines: compare within one run.
`;
if (only === undefined) writeFileSync(join(root, 'docs/BENCHMARKS.md'), report);
console.log(
  `\n${table.join('\n')}\n\n${start.join('\n')}\n\n${only === undefined ? 'written to docs/BENCHMARKS.md' : 'docs/BENCHMARKS.md not written (BENCH_SCENARIOS)'}`,
);
