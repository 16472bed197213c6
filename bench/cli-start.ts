// npm run bench:cli: start-to-exit times of `mdm-discovery --version` and `healthcheck` (against a
// running service), median of 10 runs each, beside a bare `node -e 0` measured in the same rounds.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const env = { PATH: process.env.PATH ?? '', ADMIN_PORT: '39091', PORT: '39090', LOG_LEVEL: 'warn' };

function timed(args: string[]): number {
  const started = performance.now();
  const done = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  if (done.status !== 0) throw new Error(`${args.join(' ')} exited ${done.status}`);
  return performance.now() - started;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
};

async function waitReady(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync(process.execPath, [ENTRY, 'healthcheck'], { env }).status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the service did not become ready');
}

const server: ChildProcess = spawn(process.execPath, [ENTRY, 'serve'], { env, stdio: 'ignore' });
try {
  await waitReady();
  const times = { bare: [] as number[], version: [] as number[], healthcheck: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.bare.push(timed(['-e', '0']));
    times.version.push(timed([ENTRY, '--version']));
    times.healthcheck.push(timed([ENTRY, 'healthcheck']));
  }
  const bare = median(times.bare);
  for (const [name, values] of Object.entries(times)) {
    const m = median(values);
    console.log(
      `${name.padEnd(12)} median ${m.toFixed(0).padStart(4)} ms  ÷ bare node ${(m / bare).toFixed(2)}`,
    );
  }
} finally {
  server.kill('SIGTERM');
}
