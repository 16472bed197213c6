// One watch of one domain: its TLS, and one question per model family, each compared with the config's answer.
import type { compileConfig } from '../config/compile.js';
import type { Config, SourcedTenant } from '../config/model.js';
import { readAnswer } from '../discovery/response.js';
import { questions } from '../verify/against-config.js';
import {
  answerSummary,
  type Check,
  checker,
  DEFAULT_FAMILIES,
  unresolved,
} from '../verify/checks.js';
import { askAsConfigured } from '../verify/compare.js';
import { tenantCheck } from '../verify/entra.js';
import {
  bodyChecks,
  challengeCheck,
  contentTypeCheck,
  header,
  statusCheck,
} from '../verify/evaluate.js';
import { type Client, describeError } from '../verify/fetch.js';
import { judgeHosts } from '../verify/hosts.js';
import { createClient, type NetOptions, probeTls, resolveHost } from '../verify/net.js';
import { probeBaseUrl } from '../verify/probe.js';
import { judgeTls } from '../verify/tls.js';
import { targetUrl } from '../verify/verify.js';

export interface DomainWatch {
  readonly tenant: string;
  readonly domain: string;
  /** ISO time the domain was asked. */
  readonly checkedAt: string;
  /** No check failed. */
  readonly up: boolean;
  readonly checks: readonly Check[];
  /** Per model family asked: whether the public answer is this config's, byte for byte. */
  readonly matches: Readonly<Record<string, boolean>>;
  /** When the certificate expires (Unix seconds), when a handshake told. */
  readonly certificateExpiry?: number;
  /**
   * What the last deep round found (the BaseURL probe, the Entra tenant, the BaseURL hosts' TLS):
   * made at the deep interval, kept and shown with the rounds between.
   */
  readonly deep?: DeepFindings;
}

export interface DeepFindings {
  readonly checkedAt: string;
  readonly checks: readonly Check[];
  /** Each BaseURL host's certificate expiry (Unix seconds). */
  readonly baseUrlCertificates: readonly { readonly host: string; readonly expiry: number }[];
}

/** A domain's checks of this round and of its last deep round. */
export function allChecks(d: DomainWatch): readonly Check[] {
  return d.deep ? [...d.checks, ...d.deep.checks] : d.checks;
}

export interface WatchTarget {
  readonly tenant: SourcedTenant;
  readonly domain: string;
}

/** Every exact domain of every tenant not marked `watch.skip`: the watch list of a config. */
export function watchTargets(config: Config): WatchTarget[] {
  return config.tenants
    .filter((tenant) => tenant.watch.skip !== true)
    .flatMap((tenant) =>
      tenant.domains.filter((d) => !d.startsWith('*.')).map((domain) => ({ tenant, domain })),
    );
}

/**
 * The questions of this round: one per model family (polite: never more), the user taking turns
 * across rounds among those the tenant's rules call for (against-config.ts `questions`).
 */
export function roundQuestions(
  config: Config,
  target: WatchTarget,
  round: number,
): { user: string; modelFamily: string }[] {
  const { tenant, domain } = target;
  const families = tenant.watch.families ?? [
    ...new Set([
      ...DEFAULT_FAMILIES,
      ...tenant.rules.flatMap((r) =>
        (r.when.modelFamilies ?? []).filter((f) => f !== 'absent' && f !== 'unknown'),
      ),
    ]),
  ];
  const all =
    tenant.watch.user === undefined
      ? questions(tenant, domain, config, families)
      : families.map((modelFamily) => ({ user: tenant.watch.user as string, modelFamily }));
  return families.map((family) => {
    const mine = all.filter((q) => q.modelFamily === family);
    return (
      mine[round % Math.max(1, mine.length)] ?? { user: `probe@${domain}`, modelFamily: family }
    );
  });
}

export interface WatchOptions extends NetOptions {
  /** Aborts the round (shutdown). */
  readonly signal: AbortSignal;
  /** Also probe BaseURLs and look up Entra tenants (hourly, not every round). */
  readonly deep: boolean;
}

export async function watchDomain(
  config: Config,
  table: ReturnType<typeof compileConfig>,
  target: WatchTarget,
  round: number,
  options: WatchOptions,
): Promise<DomainWatch> {
  const { tenant, domain } = target;
  const checks: Check[] = [];
  const matches: Record<string, boolean> = {};
  const url = targetUrl(domain);
  const port = Number(url.port) || 443;
  const dns = await resolveHost(options, domain, port);
  const address = dns.addresses[0];
  let certificateExpiry: number | undefined;
  let deep: DeepFindings | undefined;
  if (address === undefined) {
    checks.push(unresolved(domain, dns.error));
  } else {
    const tls = await probeTls(options, domain, port, address);
    checks.push(...judgeTls(tls, domain, new Date()));
    if (tls.validTo !== undefined) certificateExpiry = Math.floor(tls.validTo.getTime() / 1000);
    const client = createClient(
      options,
      domain,
      AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs * 4)]),
      tls.authorizationError !== undefined,
    );
    const baseUrls = new Set<string>();
    try {
      for (const { user, modelFamily } of roundQuestions(config, target, round)) {
        const asked = await question(client, table, domain, url, user, modelFamily);
        matches[modelFamily] = asked.matches;
        checks.push(...asked.checks);
        if (asked.baseUrl !== undefined) baseUrls.add(asked.baseUrl);
      }
      if (options.deep) deep = await deepFindings(options, client, url, domain, baseUrls);
    } finally {
      await client.agent.close();
    }
  }
  return {
    tenant: tenant.name,
    domain,
    checkedAt: new Date().toISOString(),
    up: !checks.some((c) => c.verdict === 'fail'),
    checks,
    matches,
    ...(certificateExpiry === undefined ? {} : { certificateExpiry }),
    ...(deep === undefined ? {} : { deep }),
  };
}

/** The deep round: each BaseURL probed, its Entra tenant proved, its host's TLS judged. */
async function deepFindings(
  options: WatchOptions,
  client: Client,
  url: URL,
  domain: string,
  baseUrls: ReadonlySet<string>,
): Promise<DeepFindings> {
  const checks: Check[] = [];
  for (const baseUrl of baseUrls) {
    checks.push(await probeBaseUrl(client, baseUrl));
    const proof = await tenantCheck(client, baseUrl, domain);
    if (proof) checks.push(proof);
  }
  const urls = [...baseUrls].map((b) => ({ url: new URL(b), section: 'baseurl' }));
  const hosts = await judgeHosts(options, url, urls, new Date());
  return {
    checkedAt: new Date().toISOString(),
    checks: [...checks, ...hosts.flatMap((h) => h.checks)],
    baseUrlCertificates: hosts.flatMap((h) =>
      h.expiry === undefined ? [] : [{ host: h.host, expiry: h.expiry }],
    ),
  };
}

/**
 * One question of a round as checks: whether the public answer is the config's, and what else is
 * wrong with it when it is not; the BaseURL it names, when it is one to probe.
 */
async function question(
  client: Client,
  table: ReturnType<typeof compileConfig>,
  domain: string,
  url: URL,
  user: string,
  modelFamily: string,
): Promise<{ matches: boolean; checks: Check[]; baseUrl?: string }> {
  const asked = await askAsConfigured(client, table, domain, url, user, modelFamily);
  if ('error' in asked) {
    const failed = checker(modelFamily, 'http.request', 'request').fail(
      describeError(asked.error),
      'make the host answer over HTTPS',
    );
    return { matches: false, checks: [failed] };
  }
  const { answer, expected, matches } = asked;
  // A listed user is a person: checks, logs and /watch name only the domain.
  const who = user.startsWith('probe@')
    ? user
    : `a listed user @${user.slice(user.lastIndexOf('@') + 1)}`;
  const body = answer.body.toString('utf8');
  const location = header(answer, 'location');
  const asConfigured = checker(modelFamily, 'config.match', 'as configured');
  const checks = [
    matches
      ? asConfigured.pass(`${answer.status}, the config's answer for ${who}`)
      : asConfigured.fail(
          `not the config's answer for ${who}: public ${summary(answer.status, body, location)}; config ${summary(expected.status, expected.body, expected.headers.location)}`,
          'find what answers in public instead of this service (an old static file, a CDN rule, another server)',
        ),
  ];
  if (!matches) {
    checks.push(statusCheck(modelFamily, answer));
    const challenge = challengeCheck(modelFamily, answer);
    if (challenge) checks.push(challenge);
    if (answer.status === 200) checks.push(contentTypeCheck(modelFamily, answer));
  }
  const server = answer.status === 200 ? bodyChecks(modelFamily, answer).server : undefined;
  return server?.probe ? { matches, checks, baseUrl: server.baseUrl } : { matches, checks };
}

/** An answer's summary (verify/checks.ts) from its status, body and Location. */
function summary(status: number, body: string, location: string | undefined): string {
  const { server, message } = readAnswer(body);
  return answerSummary({ status, ...server, message, location });
}
