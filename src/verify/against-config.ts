// verify --config: every exact domain of a config, asked in public, and compared with what this config answers.
import { mapLimit } from '../concurrency.js';
import { compileConfig } from '../config/compile.js';
import type { Config, SourcedTenant } from '../config/model.js';
import { askAsConfigured } from './compare.js';
import { header } from './evaluate.js';
import { describeError } from './fetch.js';
import { createClient } from './net.js';
import {
  DEFAULT_DEADLINE_MS,
  type Report,
  targetUrl,
  type VerifyOptions,
  verify,
} from './verify.js';

/** One question asked of the public URL, and what this config would answer to it. */
export interface Comparison {
  readonly user: string;
  readonly modelFamily: string;
  /** `status` and body (or Location) this config answers. */
  readonly expected: string;
  /** The same of the public answer, before any redirect; `no answer (…)` when none came. */
  readonly public: string;
  readonly matches: boolean;
}

export interface DomainResult {
  readonly domain: string;
  readonly tenant: string;
  readonly verdict: 'pass' | 'warn' | 'fail';
  /** The first problem, for the summary line. */
  readonly summary: string;
  readonly report: Report;
  readonly comparisons: readonly Comparison[];
}

export interface ConfigReport {
  readonly verdict: 'pass' | 'warn' | 'fail';
  readonly domains: readonly DomainResult[];
  /** Tenants with no exact domain to ask (wildcards only), with the reason. */
  readonly notChecked: readonly { readonly tenant: string; readonly reason: string }[];
}

export interface ConfigCheckOptions extends Omit<VerifyOptions, 'user' | 'families'> {
  readonly families: readonly string[];
  /** Only these domains (all exact domains when empty). */
  readonly domains: readonly string[];
  /** How many domains are asked at once. */
  readonly concurrency: number;
}

/**
 * The questions for one tenant: `probe@<domain>` for every family, and one user derived from each
 * rule that names users (its first listed user, the first of its users file, `probe@` a listed
 * domain) for the rule's own families (or the first family), so each rule is exercised once.
 */
export function questions(
  tenant: SourcedTenant,
  domain: string,
  config: Config,
  families: readonly string[],
): { user: string; modelFamily: string }[] {
  const asked = new Map<string, { user: string; modelFamily: string }>();
  const ask = (user: string, modelFamily: string) =>
    asked.set(`${user}\n${modelFamily}`, { user, modelFamily });
  for (const family of families) ask(`probe@${domain}`, family);
  for (const rule of tenant.rules) {
    const { when } = rule;
    const listed = when.users?.[0] ?? firstOf(config.userLists.get(when.usersFile ?? ''));
    const exactDomain = when.userDomains?.find((d) => !d.startsWith('*.'));
    const user = listed ?? (exactDomain ? `probe@${exactDomain}` : undefined);
    const ruleFamilies = (when.modelFamilies ?? []).filter(
      (f) => f !== 'absent' && f !== 'unknown',
    );
    for (const family of ruleFamilies.length > 0 ? ruleFamilies : families.slice(0, 1)) {
      ask(user ?? `probe@${domain}`, family);
    }
  }
  return [...asked.values()];
}

function firstOf(users: ReadonlySet<string> | undefined): string | undefined {
  return users?.values().next().value;
}

export async function verifyConfig(
  config: Config,
  options: ConfigCheckOptions,
): Promise<ConfigReport> {
  const table = compileConfig(config);
  const notChecked: { tenant: string; reason: string }[] = [];
  const jobs: { tenant: SourcedTenant; domain: string }[] = [];
  for (const tenant of config.tenants) {
    const exact = tenant.domains.filter((d) => !d.startsWith('*.'));
    if (exact.length === 0) {
      notChecked.push({
        tenant: tenant.name,
        reason: `only wildcard domains (${tenant.domains.join(', ')}): verify one real host name with "mdm-discovery verify HOST"`,
      });
    }
    for (const domain of exact) {
      if (options.domains.length === 0 || options.domains.includes(domain))
        jobs.push({ tenant, domain });
    }
  }
  const results = await mapLimit(jobs, options.concurrency, (job) =>
    checkDomain(config, table, job.tenant, job.domain, options),
  );
  const verdict = results.some((r) => r.verdict === 'fail')
    ? 'fail'
    : results.some((r) => r.verdict === 'warn')
      ? 'warn'
      : 'pass';
  return { verdict, domains: results, notChecked };
}

async function checkDomain(
  config: Config,
  table: ReturnType<typeof compileConfig>,
  tenant: SourcedTenant,
  domain: string,
  options: ConfigCheckOptions,
): Promise<DomainResult> {
  const report = await verify(domain, { ...options, families: options.families });
  const target = targetUrl(domain);
  const client = createClient(options, domain, options.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const comparisons: Comparison[] = [];
  try {
    for (const { user, modelFamily } of questions(tenant, domain, config, options.families)) {
      const asked = await askAsConfigured(client, table, domain, target, user, modelFamily);
      const { expected } = asked;
      comparisons.push({
        user,
        modelFamily,
        expected: describe(expected.status, expected.headers.location ?? expected.body),
        public:
          'error' in asked
            ? `no answer (${describeError(asked.error)})`
            : describe(
                asked.answer.status,
                header(asked.answer, 'location') ?? asked.answer.body.toString('utf8'),
              ),
        matches: asked.matches,
      });
    }
  } finally {
    await client.agent.close();
  }
  const differ = comparisons.find((c) => !c.matches);
  const firstFailure = report.checks.find((c) => c.verdict === 'fail');
  const firstWarning = report.checks.find((c) => c.verdict === 'warn');
  const verdict = differ || report.verdict === 'fail' ? 'fail' : report.verdict;
  const summary = differ
    ? `${differ.modelFamily} ${differ.user}: the public answer is not this config's (public: ${differ.public}; config: ${differ.expected})`
    : firstFailure
      ? `${firstFailure.label}: ${firstFailure.detail}`
      : firstWarning
        ? `${firstWarning.label}: ${firstWarning.detail}`
        : `${comparisons.length} question${comparisons.length === 1 ? '' : 's'}, every answer as configured`;
  return { domain, tenant: tenant.name, verdict, summary, report, comparisons };
}

function describe(status: number, text: string): string {
  return text.length === 0 ? `${status}` : `${status} ${text}`;
}
