// verify: ask a live domain the way an Apple device does, and say what would fail and why.

import { deviceQuery } from '../discovery/query.js';
import { appleReservedDomain, WELL_KNOWN_PATH } from '../protocol.js';
import { answerSummary, type Check, checker, DEFAULT_FAMILIES, unresolved } from './checks.js';
import { tenantCheck } from './entra.js';
import {
  type Answer,
  bodyChecks,
  cacheCheck,
  challengeCheck,
  contentTypeCheck,
  header,
  type ServerEntry,
  statusCheck,
  wellKnownFailed,
} from './evaluate.js';
import { type Client, describeError, fetchAnswer } from './fetch.js';
import { judgeHosts } from './hosts.js';
import { createClient, type NetOptions, probeTls, resolveEntries, resolveHost } from './net.js';
import { probeBaseUrl } from './probe.js';
import { judgeTls } from './tls.js';

const MAX_REDIRECTS = 5;
/** How long a whole run may take by default (--deadline). */
export const DEFAULT_DEADLINE_MS = 60_000;

export interface VerifyOptions extends NetOptions {
  /** user-identifier to send; `probe@<host>` when absent. */
  readonly user?: string | undefined;
  readonly families: readonly string[];
  readonly probeBaseUrl: boolean;
  /** Look up the Entra tenant of the user's domain for an Intune BaseURL (default on). */
  readonly tenantCheck?: boolean;
  /** The whole run ends within this time; requests still to make then fail. */
  readonly deadlineMs?: number;
  /** For certificate expiry; now when absent. */
  readonly now?: Date;
}

export interface Hop {
  readonly status: number;
  readonly url: string;
  readonly location: string;
}

export interface FamilyAnswer {
  readonly modelFamily: string;
  /** Final status after redirects; null when no answer came. */
  readonly status: number | null;
  readonly hops: readonly Hop[];
  readonly version?: string;
  readonly baseUrl?: string;
  /** Whether the BaseURL passed its checks, so that the probe may contact it. */
  readonly probe?: boolean;
  /** The message of a 403 com.apple.well-known.failed. */
  readonly message?: string;
  /** What each band of Apple's systems does with this answer (docs/protocol.md sections 2, 6). */
  readonly systems?: readonly SystemOutcome[];
}

export interface SystemOutcome {
  readonly systems: string;
  readonly outcome: string;
}

export interface Report {
  readonly target: string;
  readonly host: string;
  readonly user: string;
  /** fail when any check failed, else warn when any warned, else pass. */
  readonly verdict: 'pass' | 'warn' | 'fail';
  readonly counts: { readonly pass: number; readonly warn: number; readonly fail: number };
  readonly checks: readonly Check[];
  readonly answers: readonly FamilyAnswer[];
  /** What no check here can see, said at the end of every report. */
  readonly cannotSee: readonly string[];
}

/** What no check of verify (or the watcher) can see: said, so that a pass is not read as more. */
export const CANNOT_SEE = [
  "the device's own request to the BaseURL: the device signs it (its identity, and attestation where the MDM asks), which no check can do; the probe sends an unsigned one",
  "what the MDM does with this user and device: its enrollment profile, policy or restrictions (for Intune: the profile assigned to the user's group, the enrollment restrictions; for Jamf Pro: whether account-driven enrollment is on for the platform)",
  "Apple's own fallback (iOS 18.2+, macOS 15.2+): what Apple Business answers when this domain does not send a server",
  'the device itself: its date, its trust store, and the network between it and these hosts (a proxy, a firewall, a captive portal)',
] as const;

export class VerifyTargetError extends Error {
  readonly code = 'MDM_VERIFY_TARGET';
}

/** `contoso.com` or `https://contoso.com[:port][/path]` to the discovery URL (query dropped). */
export function targetUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
  } catch {
    throw new VerifyTargetError(`"${input}" is neither a domain nor a URL`);
  }
  if (url.protocol !== 'https:')
    throw new VerifyTargetError(`"${input}": devices only ask over https`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = WELL_KNOWN_PATH;
  url.search = '';
  url.hash = '';
  return url;
}

export async function verify(input: string, options: VerifyOptions): Promise<Report> {
  const target = targetUrl(input);
  const host = target.hostname;
  const port = Number(target.port) || 443;
  const user = options.user ?? `probe@${host}`;
  const checks: Check[] = [];
  const answers: FamilyAnswer[] = [];
  const finish = (): Report => report(target.href, host, user, checks, answers);

  const reserved = appleReservedDomain(host);
  if (reserved !== undefined) {
    checks.push(
      checker('connection', 'domain.apple-reserved', 'domain').warn(
        `${host} is under ${reserved}, a domain Apple reserves for Apple Business accounts: Apple answers discovery for those accounts itself, so no server of yours is asked and nothing here was requested`,
        'to send those devices to your MDM, assign it in Apple Business (its default MDM server for each device type)',
      ),
    );
    return finish();
  }

  const dns = await resolveHost(options, host, port);
  const address = dns.addresses[0];
  if (address === undefined) {
    checks.push(unresolved(host, dns.error));
    return finish();
  }
  checks.push(
    checker('connection', 'dns', 'DNS').pass(
      `${host} → ${dns.addresses.join(', ')}${dns.via === '--resolve' ? ' (--resolve)' : ''}`,
    ),
  );

  const tls = await probeTls(options, host, port, address);
  const tlsChecks = judgeTls(tls, host, options.now ?? new Date());
  checks.push(...tlsChecks);
  if (tls.error !== undefined) return finish();
  // A certificate failure is reported above; the answers are still read, to report everything.
  const insecure = tls.authorizationError !== undefined;
  const client = createClient(options, host, options.deadlineMs ?? DEFAULT_DEADLINE_MS, insecure);
  const { agent } = client;
  try {
    const families = options.families.length > 0 ? options.families : DEFAULT_FAMILIES;
    const firstAnswers = new Map<string, Answer>();
    for (const family of families) {
      const url = new URL(target);
      url.search = deviceQuery(user, family);
      const { answer, checks: familyChecks } = await askAsDevice(client, url, family, firstAnswers);
      checks.push(...familyChecks);
      answers.push(answer);
    }
    const family = families[0] ?? 'iPhone';
    checks.push(...(await otherRequests(client, target, user, family, firstAnswers)));
    checks.push(await encodingCheck(client, target, user, family, answers[0]));
    if (dns.addresses.length > 1) {
      checks.push(
        await addressesCheck(options, insecure, target, host, port, dns.addresses, user, family),
      );
    }
    const dotted = await trailingDotCheck(client, target, user, family, answers[0]);
    if (dotted) checks.push(dotted);
    checks.push(compareFamilies(answers));
    const others = [
      ...answers.flatMap((a) =>
        a.hops.map((hop) => ({ url: new URL(hop.location), section: 'redirect' })),
      ),
      ...answers
        .filter((a) => a.probe === true && a.baseUrl !== undefined)
        .map((a) => ({ url: new URL(a.baseUrl as string), section: 'baseurl' })),
    ];
    const judged = await judgeHosts(options, target, others, options.now ?? new Date());
    checks.push(...judged.flatMap((h) => h.checks));
    if (options.probeBaseUrl) {
      const baseUrls = [
        ...new Set(answers.filter((a) => a.probe === true).map((a) => a.baseUrl as string)),
      ];
      for (const baseUrl of baseUrls) checks.push(await probeBaseUrl(client, baseUrl));
    }
    if (options.tenantCheck !== false) {
      const domain = user.slice(user.lastIndexOf('@') + 1).toLowerCase();
      const intune = new Set(
        answers.filter((a) => a.probe === true).map((a) => a.baseUrl as string),
      );
      for (const baseUrl of intune) {
        const found = await tenantCheck(client, baseUrl, domain);
        if (found) checks.push(found);
      }
    }
  } finally {
    await agent.close();
  }
  return finish();
}

function report(
  target: string,
  host: string,
  user: string,
  checks: Check[],
  answers: FamilyAnswer[],
): Report {
  const counts = {
    pass: checks.filter((c) => c.verdict === 'pass').length,
    warn: checks.filter((c) => c.verdict === 'warn').length,
    fail: checks.filter((c) => c.verdict === 'fail').length,
  };
  const verdict = counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass';
  return { target, host, user, verdict, counts, checks, answers, cannotSee: CANNOT_SEE };
}

interface Followed {
  readonly hops: Hop[];
  /** The first answer (before any redirect), what HEAD is compared with. */
  readonly first?: Answer;
  /** The final answer; undefined when the request failed or redirected too often. */
  readonly answer?: Answer;
  readonly error?: string;
}

/** Follows redirects by hand, as a device does, up to MAX_REDIRECTS; stops at an http hop. */
async function follow(client: Client, start: URL): Promise<Followed> {
  const hops: Hop[] = [];
  let url = start;
  let first: Answer | undefined;
  for (;;) {
    let answer: Answer;
    try {
      answer = await fetchAnswer(client, url, 'GET');
    } catch (error) {
      return { hops, ...(first ? { first } : {}), error: `${url.href}: ${describeError(error)}` };
    }
    first ??= answer;
    const location = header(answer, 'location');
    if (answer.status < 300 || answer.status >= 400 || location === undefined)
      return { hops, first, answer };
    const next = new URL(location, url);
    hops.push({ status: answer.status, url: url.href, location: next.href });
    if (next.protocol !== 'https:' || hops.length > MAX_REDIRECTS) return { hops, first };
    url = next;
  }
}

/** One device request: each redirect hop checked, then the answer judged. */
async function askAsDevice(
  client: Client,
  start: URL,
  family: string,
  firstAnswers: Map<string, Answer>,
): Promise<{ answer: FamilyAnswer; checks: Check[] }> {
  const checks: Check[] = [];
  const { hops, first, answer: final, error } = await follow(client, start);
  if (first) firstAnswers.set(family, first);
  let broken = false;
  hops.forEach((hop, i) => {
    const next = new URL(hop.location);
    checks.push(
      checker(family, 'redirect.hop', `redirect ${i + 1}`).info(`${hop.status} → ${hop.location}`),
    );
    if (next.protocol !== 'https:') {
      checks.push(
        checker(family, 'redirect.https', 'redirect').fail(
          `hop ${i + 1} goes from https to ${next.protocol.slice(0, -1)}`,
          'redirect only to https URLs',
        ),
      );
      broken = true;
    }
    const lost = ['user-identifier', 'model-family'].filter(
      (p) => start.searchParams.has(p) && !next.searchParams.has(p),
    );
    if (lost.length > 0 && !broken) {
      checks.push(
        checker(family, 'redirect.query', 'redirect').fail(
          `hop ${i + 1} drops ${lost.join(' and ')}; the device does not re-add them`,
          'make the redirect keep the query string (user-identifier and model-family)',
        ),
      );
      broken = true;
    }
  });
  if (hops.length > MAX_REDIRECTS) {
    checks.push(
      checker(family, 'redirect.count', 'redirect').fail(
        `more than ${MAX_REDIRECTS} redirects`,
        'redirect once, to the final discovery URL',
      ),
    );
  }
  if (error !== undefined) {
    checks.push(
      checker(family, 'http.request', 'request').fail(error, 'make the host answer over HTTPS'),
    );
  }
  if (final === undefined) {
    return {
      answer: { modelFamily: family, status: null, hops, systems: bySystem(undefined, undefined) },
      checks,
    };
  }
  if (hops.length > 0 && !broken) {
    checks.push(
      checker(family, 'redirect.query', 'redirect').pass(
        `${hops.length} hop${hops.length > 1 ? 's' : ''}, query kept`,
      ),
    );
  }
  checks.push(statusCheck(family, final));
  const challenge = challengeCheck(family, final);
  if (challenge) checks.push(challenge);
  let server: ServerEntry | undefined;
  if (final.status === 200 || final.status === 403) checks.push(contentTypeCheck(family, final));
  if (final.status === 200 && !challenge) {
    const body = bodyChecks(family, final, start.hostname);
    checks.push(...body.checks);
    server = body.server;
    checks.push(cacheCheck(family, final));
  }
  const message =
    final.status === 403 ? (wellKnownFailed(final.body)?.message as string | undefined) : undefined;
  const json = mediaType(final) === 'application/json';
  return {
    answer: {
      modelFamily: family,
      status: final.status,
      hops,
      ...(server ? { version: server.version, baseUrl: server.baseUrl, probe: server.probe } : {}),
      ...(message !== undefined ? { message } : {}),
      systems: bySystem(json ? server?.version : undefined, json ? message : undefined),
    },
    checks,
  };
}

/** HEAD (what `curl -I` sees) and a GET without a query (what Microsoft's check sends). */
async function otherRequests(
  client: Client,
  target: URL,
  user: string,
  family: string,
  firstAnswers: Map<string, Answer>,
): Promise<Check[]> {
  const s = 'requests';
  const out: Check[] = [];
  const withQuery = new URL(target);
  withQuery.search = deviceQuery(user, family);
  const get = firstAnswers.get(family);
  try {
    const head = await fetchAnswer(client, withQuery, 'HEAD');
    const same =
      get !== undefined &&
      head.status === get.status &&
      header(head, 'content-type') === header(get, 'content-type');
    out.push(
      same
        ? checker(s, 'http.head', 'HEAD').pass(
            `${head.status}, same status and Content-Type as GET`,
          )
        : checker(s, 'http.head', 'HEAD').warn(
            `HEAD answers ${head.status} ${header(head, 'content-type') ?? ''} but GET ${get?.status ?? '(none)'} ${get ? (header(get, 'content-type') ?? '') : ''}`.trim(),
            'answer HEAD like GET, so that curl -I checks tell the truth',
          ),
    );
  } catch (error) {
    out.push(checker(s, 'http.head', 'HEAD').warn(describeError(error), 'answer HEAD like GET'));
  }
  const bare = await follow(client, target);
  if (bare.answer === undefined) {
    out.push(
      checker(s, 'http.bare', 'without query').warn(
        bare.error ?? 'no answer after redirects',
        'answer the bare path too',
      ),
    );
  } else {
    const type = header(bare.answer, 'content-type') ?? '(none)';
    const via =
      bare.hops.length > 0
        ? ` after ${bare.hops.length} redirect${bare.hops.length > 1 ? 's' : ''}`
        : '';
    out.push(
      bare.answer.status === 200 && type.split(';')[0]?.trim() === 'application/json'
        ? checker(s, 'http.bare', 'without query').pass(`200 ${type}${via}`)
        : checker(s, 'http.bare', 'without query').warn(
            `${bare.answer.status} ${type}${via}: Microsoft's check asks without a query and expects 200 application/json`,
            'answer the bare path too (older devices send no model-family)',
          ),
    );
  }
  return out;
}

function compareFamilies(answers: readonly FamilyAnswer[]): Check {
  const describe = (a: FamilyAnswer) => answerSummary(a);
  const distinct = new Set(answers.map(describe));
  return checker('answers', 'families.compare', 'by model family').info(
    distinct.size <= 1
      ? `the same answer for ${answers.map((a) => a.modelFamily).join(', ')}`
      : `answers differ: ${answers.map((a) => `${a.modelFamily}: ${describe(a)}`).join('; ')}`,
  );
}

function mediaType(answer: Answer): string {
  return (header(answer, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const INFERRED = 'inferred from iOS 18.2 device code, not documented by Apple';

/**
 * What each band of systems does with an answer: a server entry (enrolls), a well-known.failed
 * message (a refusal), or anything else (a failure). docs/protocol.md sections 2 and 6.
 */
export function bySystem(
  version: string | undefined,
  message: string | undefined,
): SystemOutcome[] {
  const bands = [
    'before iOS 17.5 / macOS 14.5',
    'iOS 17.5-18.1 / macOS 14.5-15.1',
    'iOS 18.2+ / macOS 15.2+',
  ] as const;
  const [old, middle, current] = bands;
  if (version !== undefined) {
    const enrolls =
      version === 'mdm-adde'
        ? 'enroll (Device Enrollment: iOS/iPadOS 17+, macOS 14+, visionOS 1.1+)'
        : 'enroll (User Enrollment: iOS/iPadOS 15+, macOS 14+, visionOS 1.1+)';
    return bands.map((systems) => ({ systems, outcome: enrolls }));
  }
  const stop =
    'show "Your Apple ID does not support the expected services on this device" and stop';
  if (message !== undefined) {
    return [
      { systems: old, outcome: 'show a generic error and stop' },
      { systems: middle, outcome: `show "${message}" and stop` },
      {
        systems: current,
        outcome: `fall back to Apple's discovery (the MDM registered in Apple Business), so "${message}" may never be shown (${INFERRED})`,
      },
    ];
  }
  return [
    { systems: old, outcome: stop },
    { systems: middle, outcome: stop },
    {
      systems: current,
      outcome:
        'fall back to Apple Business: the MDM server it assigns by default to this device type (its own built-in MDM among them), or the discovery your MDM registered there, if any',
    },
  ];
}

/** The same person and family asked with `@` and `+` percent-encoded: a server must not care. */
async function encodingCheck(
  client: Client,
  target: URL,
  user: string,
  family: string,
  raw: FamilyAnswer | undefined,
): Promise<Check> {
  const url = new URL(target);
  url.search = deviceQuery(user, family, true);
  const followed = await follow(client, url);
  const encoded = followed.answer;
  const rawText = answerSummary(raw ?? { status: null });
  let encodedText = 'no answer';
  if (encoded !== undefined) {
    const server = encoded.status === 200 ? bodyChecks(family, encoded).server : undefined;
    const message =
      encoded.status === 403
        ? (wellKnownFailed(encoded.body)?.message as string | undefined)
        : undefined;
    encodedText = answerSummary({
      status: encoded.status,
      version: server?.version,
      baseUrl: server?.baseUrl,
      message,
    });
  }
  const encoding = checker('requests', 'http.encoding', 'raw @ and +');
  return rawText === encodedText
    ? encoding.pass('the same answer with @ and + raw (as devices send them) and percent-encoded')
    : encoding.fail(
        `raw (as devices send): ${rawText}; percent-encoded: ${encodedText}`,
        'decode the query per RFC 3986: a + is a plus, not a space (devices send user-identifier with @ and + raw)',
      );
}

/**
 * A guide once told people to host the file at `…remotemanagement.` (a trailing dot); devices
 * never ask there (docs/protocol.md section 6). Asked only when the real path gives no server.
 */
async function trailingDotCheck(
  client: Client,
  target: URL,
  user: string,
  family: string,
  answer: FamilyAnswer | undefined,
): Promise<Check | undefined> {
  if (answer?.baseUrl !== undefined || !target.pathname.endsWith(WELL_KNOWN_PATH)) return undefined;
  const url = new URL(target);
  url.pathname = `${WELL_KNOWN_PATH}.`;
  url.search = deviceQuery(user, family);
  const dotted = (await follow(client, url)).answer;
  if (dotted?.status !== 200 || bodyChecks(family, dotted).server === undefined) return undefined;
  return checker('requests', 'http.trailing-dot', 'trailing dot').fail(
    `${WELL_KNOWN_PATH}. (with a trailing dot) answers with a server; devices never ask there`,
    `serve the answer at ${WELL_KNOWN_PATH}, without the dot (a vendor guide's slip)`,
  );
}

/**
 * Every address of the host asked the same first question: two A or AAAA records that point at
 * servers answering differently are "two servers where Apple reads one", and an AAAA that does
 * not answer breaks devices that prefer IPv6.
 */
async function addressesCheck(
  options: VerifyOptions,
  insecure: boolean,
  target: URL,
  host: string,
  port: number,
  addresses: readonly string[],
  user: string,
  family: string,
): Promise<Check> {
  const url = new URL(target);
  url.search = deviceQuery(user, family);
  const seen: { address: string; answer: string }[] = [];
  for (const address of addresses) {
    // Each address pinned in turn, as --resolve does, keeping a port the entry connects to.
    const entry = resolveEntries(options, host, port).find((r) => r.address === address);
    const pinned: NetOptions = {
      ...options,
      resolve: [
        {
          host,
          port,
          address,
          ...(entry?.connectPort === undefined ? {} : { connectPort: entry.connectPort }),
        },
      ],
    };
    const client = createClient(pinned, host, options.timeoutMs * 2, insecure);
    const { agent } = client;
    try {
      const answer = await fetchAnswer(client, url, 'GET');
      const server = answer.status === 200 ? bodyChecks(family, answer).server : undefined;
      const what = `${answer.status} ${mediaType(answer) || '(no Content-Type)'}`;
      seen.push({
        address,
        answer: server ? `${what} ${server.version} ${server.baseUrl}` : what,
      });
    } catch (error) {
      seen.push({ address, answer: `no answer (${describeError(error)})` });
    } finally {
      await agent.close();
    }
  }
  const side = seen.map((x) => `${x.address}: ${x.answer}`).join('; ');
  const alike =
    seen.every((x) => x.answer === seen[0]?.answer) && !seen[0]?.answer.startsWith('no answer');
  const everyAddress = checker('connection', 'dns.addresses', 'every address');
  return alike
    ? everyAddress.pass(`${seen.length} addresses answer alike: ${side}`)
    : everyAddress.fail(
        side,
        'point every A and AAAA record at servers that answer alike, or remove the stale one (devices may use any of them, IPv6 first)',
      );
}
