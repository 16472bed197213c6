// Routing cost: a decision with a 100,000-user list against one with no rules, in one process,
// interleaved rounds, ratios printed. Run: npm run bench:routing
import { compileConfig } from '../src/config/compile.js';
import { parseConfig } from '../src/config/load.js';
import { type DiscoveryRequest, decide } from '../src/discovery/decide.js';
import type { RoutingTable } from '../src/discovery/table.js';

const USERS = 100_000;
const CALLS = 300_000;
const ROUNDS = 7;
const tenantId = '6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a';
const listed = Array.from({ length: USERS }, (_, i) => `user${i}@contoso.example`).join('\n');

function table(rules: object[], label?: string): RoutingTable {
  const document = {
    tenants: [
      { name: 'contoso', domains: ['contoso.example'], enroll: { intune: { tenantId } }, rules },
    ],
  };
  const started = performance.now();
  const config = parseConfig([{ file: 'bench.json', text: JSON.stringify(document) }], {
    readText: () => listed,
  });
  const compiled = compileConfig(config);
  if (label)
    console.log(`load and compile, ${label}: ${(performance.now() - started).toFixed(0)} ms`);
  return compiled;
}

const plain = table([]);
const single = table([
  {
    name: 'cohort',
    when: { users: ['user99999@contoso.example'] },
    enroll: { version: 'mdm-adde', baseUrl: 'https://new.example/enroll' },
  },
]);
const routed = table(
  [
    {
      name: 'cohort',
      when: { usersFile: 'cohort.txt' },
      enroll: { version: 'mdm-adde', baseUrl: 'https://new.example/enroll' },
    },
  ],
  `a ${USERS.toLocaleString('en')}-line users file`,
);
const ask = (user: string): DiscoveryRequest => ({
  host: 'contoso.example',
  search: `user-identifier=${user}&model-family=iPhone`,
});

const scenarios: [string, RoutingTable, DiscoveryRequest][] = [
  ['no rules (baseline)', plain, ask('user99999@contoso.example')],
  ['1 user listed, matching', single, ask('user99999@contoso.example')],
  ['100k users, listed', routed, ask('user99999@contoso.example')],
  ['100k users, not listed', routed, ask('someone@contoso.example')],
];

function round(t: RoutingTable, request: DiscoveryRequest): number {
  const started = performance.now();
  let sink = 0;
  for (let i = 0; i < CALLS; i++) sink += decide(t, request).response.status;
  if (sink === 0) throw new Error('unreachable');
  return CALLS / ((performance.now() - started) / 1000);
}

const rates = scenarios.map(() => [] as number[]);
for (const [, t, r] of scenarios) round(t, r); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  scenarios.forEach(([, t, r], s) => {
    rates[s]?.push(round(t, r));
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const base = median(rates[0] ?? []);
console.log(`\n${'scenario'.padEnd(26)} ${'decisions/s'.padStart(12)}  ratio to baseline`);
scenarios.forEach(([name], s) => {
  const m = median(rates[s] ?? []);
  console.log(
    `${name.padEnd(26)} ${Math.round(m).toLocaleString('en').padStart(12)}  ${(m / base).toFixed(2)}`,
  );
});
console.log(
  `\nmedians of ${ROUNDS} interleaved rounds of ${CALLS.toLocaleString('en')} calls, node ${process.version}`,
);
