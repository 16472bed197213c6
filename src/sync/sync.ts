// mdm-discovery sync: one config file per customer in a config directory, every domain proved on
// the cloud's sign-in host before it is served, and no file touched that sync did not write.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { ConfigError, problemLines } from '../config/problems.js';
import { appleReservedDomain } from '../protocol.js';
import { lookupTenant, type TenantLookup } from '../verify/entra.js';
import type { Client } from '../verify/fetch.js';
import type { Customer } from './csv.js';

/** The files sync writes, and only those: `sync-<name>.json` (docs/sync.md). */
const OWN_FILE = /^sync-[a-z0-9-]+\.json$/;

/** A customer's initial domain (`contoso.onmicrosoft.com`): Microsoft's, never a user's account domain. */
const INITIAL = /\.(onmicrosoft\.com|onmicrosoft\.us|partner\.onmschina\.cn)$/;

export interface SyncOptions {
  readonly out: string;
  /** `csv:<file>`, `cipp:<url>`, `graph:<cloud>`: written into each tenant's `sync.from`. */
  readonly from: string;
  /** Names, domains or tenant IDs to take besides those sync already wrote. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Take every customer of the source. */
  readonly all: boolean;
  readonly dryRun: boolean;
  /** Remove the file of a customer the source no longer lists. */
  readonly prune: boolean;
  readonly now: Date;
  /** Who owns a domain: the sign-in host's OpenID metadata (verify/entra.ts). */
  readonly lookup: (customer: Customer, domain: string) => Promise<TenantLookup>;
}

export interface SyncReport {
  readonly customers: number;
  readonly selected: number;
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Kept as they were: a customer the source no longer lists, without --prune. */
  readonly kept: string[];
  /** A domain left out or kept, and why. */
  readonly notes: string[];
  /** The domains each added or changed tenant gains and loses. */
  readonly domains: ReadonlyMap<string, DomainChanges>;
  readonly outcome: 'changed' | 'unchanged';
}

export interface DomainChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

interface Synced {
  readonly file: string;
  readonly text: string;
  readonly tenant: {
    name: string;
    domains: string[];
    rules?: unknown[];
    watch?: unknown;
    sync: { from: string; at: string; customer: string };
  };
}

/** The directory as it is: the files sync wrote (by customer) and the domains of every other. */
async function readOut(out: string) {
  const own = new Map<string, Synced>();
  const handWritten = new Map<string, string>();
  const others: { file: string; text: string }[] = [];
  const listed = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    throw new Error(
      `--out ${out}: cannot be read (${error.code}); give an existing config directory`,
    );
  });
  for (const name of listed.filter((f) => f.endsWith('.json')).sort()) {
    const file = join(out, name);
    const text = await readFile(file, 'utf8');
    let parsed: { tenants?: Synced['tenant'][] };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new Error(
        `${file}: not valid JSON; mend it (mdm-discovery validate ${out}) before syncing`,
      );
    }
    const tenant = parsed.tenants?.[0];
    if (OWN_FILE.test(name) && tenant?.sync?.customer !== undefined) {
      own.set(tenant.sync.customer, { file, text, tenant });
      continue;
    }
    others.push({ file, text });
    for (const t of parsed.tenants ?? [])
      for (const d of t.domains ?? []) handWritten.set(d, t.name);
  }
  return { own, handWritten, others };
}

type Named = Pick<Customer, 'id' | 'name' | 'domains'>;

const matches = (c: Named, key: string) => {
  const k = key.trim().toLowerCase();
  return c.id === k || c.name.toLowerCase() === k || c.domains.includes(k);
};

/** The tenant name of a customer: its name in the config's alphabet. */
function tenantName(c: Customer): string {
  const slug = c.name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'customer'}-${c.id.slice(0, 8)}`;
}

/**
 * Which of a customer's domains may be served: proved to belong to its tenant now, or (when the
 * lookup cannot be made) proved before; never the initial domain or Apple's.
 */
async function provedDomains(
  c: Customer,
  before: readonly string[],
  options: SyncOptions,
  notes: string[],
): Promise<string[]> {
  const proved: string[] = [];
  for (const domain of c.domains) {
    if (INITIAL.test(domain)) continue;
    const reserved = appleReservedDomain(domain);
    if (reserved !== undefined) {
      notes.push(`${c.name}: ${domain} left out: it is under ${reserved}, for which Apple answers`);
      continue;
    }
    const found = await options.lookup(c, domain);
    if (found.kind === 'found' && found.tenantId === c.id) proved.push(domain);
    else if (found.kind === 'found') {
      notes.push(
        `${c.name}: ${domain} left out: it belongs to Entra tenant ${found.tenantId}, not the customer's ${c.id}`,
      );
    } else if (found.kind === 'unknown-domain') {
      notes.push(`${c.name}: ${domain} left out: no Entra tenant has verified it (AADSTS90002)`);
    } else if (before.includes(domain)) {
      proved.push(domain);
      notes.push(`${c.name}: ${domain} kept as proved before: the lookup failed (${found.reason})`);
    } else {
      notes.push(
        `${c.name}: ${domain} not added: the lookup failed (${found.reason}); it is tried again next run`,
      );
    }
  }
  return proved;
}

/** The file's JSON: the tenant as sync writes it, with the rules and watch a person added kept. */
function render(
  c: Customer,
  domains: string[],
  before: Synced | undefined,
  from: string,
  at: string,
) {
  const tenant = {
    name: before?.tenant.name ?? tenantName(c),
    domains,
    enroll: { intune: { ...(c.cloud === 'commercial' ? {} : { cloud: c.cloud }), tenantId: c.id } },
    ...(before?.tenant.rules ? { rules: before.tenant.rules } : {}),
    ...(before?.tenant.watch ? { watch: before.tenant.watch } : {}),
    sync: { from, at, customer: c.id },
  };
  return `${JSON.stringify({ tenants: [tenant] }, null, 2)}\n`;
}

/** The same file but for `sync.at`: nothing to write. */
const sameBut = (a: string, b: string) =>
  a.replace(/"at": "[^"]*"/, '') === b.replace(/"at": "[^"]*"/, '');

/**
 * Whether a run takes a customer: one sync wrote before, one --include names, or any with --all;
 * never one --exclude names. Sources that are asked per customer (CIPP) ask only for these.
 */
export function takes(
  options: Pick<SyncOptions, 'all' | 'include' | 'exclude'>,
  written: { has(id: string): boolean },
): (c: Named) => boolean {
  return (c) =>
    !options.exclude.some((k) => matches(c, k)) &&
    (options.all || written.has(c.id) || options.include.some((k) => matches(c, k)));
}

/** The IDs of the customers sync wrote into `out` before. */
export async function writtenCustomers(out: string): Promise<Set<string>> {
  return new Set((await readOut(out)).own.keys());
}

/**
 * A customer's domains that nobody else claims: not listed by two customers of the source (nobody's
 * until the source says whose), not served by a hand-written tenant (it wins).
 */
function unclaimed(
  c: Customer,
  claims: ReadonlyMap<string, string[]>,
  handWritten: ReadonlyMap<string, string>,
  notes: string[],
): string[] {
  return c.domains.filter((d) => {
    const claimants = claims.get(d) ?? [];
    if (claimants.length > 1) {
      notes.push(`${c.name}: ${d} left out: listed by ${claimants.join(' and ')}`);
      return false;
    }
    const writer = handWritten.get(d);
    if (writer !== undefined) {
      notes.push(`${c.name}: ${d} left out: the hand-written tenant "${writer}" serves it`);
      return false;
    }
    return true;
  });
}

/** The directory as it would be, loaded as the service would load it: before any write. */
function validateResult(
  others: readonly { file: string; text: string }[],
  own: ReadonlyMap<string, Synced>,
  writes: ReadonlyMap<string, string>,
  removes: readonly string[],
): void {
  const documents = [
    ...others,
    ...[...own.values()].filter((s) => !removes.includes(s.file) && !writes.has(s.file)),
    ...[...writes].map(([file, text]) => ({ file, text })),
  ];
  if (documents.length === 0) return;
  try {
    parseConfig(documents);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new Error(
      `the result would not load; nothing written:\n${problemLines(error.problems).join('\n')}`,
    );
  }
}

/** Each file written whole or not at all (the service's file watcher never reads half a file). */
async function apply(writes: ReadonlyMap<string, string>, removes: readonly string[]) {
  for (const [file, text] of writes) {
    const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, file);
  }
  for (const file of removes) await rm(file, { force: true });
}

/** One customer: its proved domains as a file to write, a file to remove, or nothing to do. */
async function syncCustomer(
  c: Customer,
  before: Synced | undefined,
  context: {
    claims: ReadonlyMap<string, string[]>;
    handWritten: ReadonlyMap<string, string>;
    options: SyncOptions;
    notes: string[];
  },
): Promise<{
  name: string;
  kind: 'added' | 'changed' | 'removed' | 'same';
  write?: { file: string; text: string };
  remove?: string;
  domains?: DomainChanges;
}> {
  const { options, notes } = context;
  const wanted = unclaimed(c, context.claims, context.handWritten, notes);
  const old = before?.tenant.domains ?? [];
  const proved = await provedDomains({ ...c, domains: wanted }, old, options, notes);
  const name = before?.tenant.name ?? tenantName(c);
  if (proved.length === 0) {
    notes.push(
      `${c.name}: no domain proved: ${before ? 'its file is removed' : 'nothing written'}`,
    );
    return before ? { name, kind: 'removed', remove: before.file } : { name, kind: 'same' };
  }
  const text = render(c, proved, before, options.from, options.now.toISOString());
  if (before && sameBut(before.text, text)) return { name, kind: 'same' };
  const file = before?.file ?? join(options.out, `sync-${name}.json`);
  const domains = {
    added: proved.filter((d) => !old.includes(d)),
    removed: old.filter((d) => !proved.includes(d)),
  };
  return { name, kind: before ? 'changed' : 'added', write: { file, text }, domains };
}

export async function runSync(
  customers: readonly Customer[],
  options: SyncOptions,
): Promise<SyncReport> {
  const { own, handWritten, others } = await readOut(options.out);
  const notes: string[] = [];
  const selected = customers.filter(takes(options, own));
  // Claims are counted over the whole source, selected or not: a domain two customers list is
  // nobody's until the source says whose it is.
  const claims = new Map<string, string[]>();
  for (const c of customers) {
    for (const d of c.domains) claims.set(d, [...(claims.get(d) ?? []), c.name]);
  }
  const steps: Awaited<ReturnType<typeof syncCustomer>>[] = [];
  for (const c of selected) {
    steps.push(await syncCustomer(c, own.get(c.id), { claims, handWritten, options, notes }));
  }
  const named = (kind: string) => steps.filter((x) => x.kind === kind).map((x) => x.name);
  const writes = new Map(steps.flatMap((x) => (x.write ? [[x.write.file, x.write.text]] : [])));
  const domains = new Map(steps.flatMap((x) => (x.domains ? [[x.name, x.domains]] : [])));
  const removes = steps.flatMap((x) => (x.remove ? [x.remove] : []));
  const [added, changed, removed] = [named('added'), named('changed'), named('removed')];
  // A customer the source no longer lists: kept, or with --prune removed.
  const gone = [...own].filter(([id]) => !customers.some((c) => c.id === id));
  const kept = options.prune ? [] : gone.map(([, synced]) => synced.tenant.name);
  if (options.prune) {
    for (const [, synced] of gone) {
      removes.push(synced.file);
      removed.push(synced.tenant.name);
    }
  }
  const any = writes.size + removes.length > 0;
  if (any) validateResult(others, own, writes, removes);
  if (any && !options.dryRun) await apply(writes, removes);
  return {
    customers: customers.length,
    selected: selected.length,
    added,
    changed,
    removed,
    kept,
    notes,
    domains,
    outcome: any ? 'changed' : 'unchanged',
  };
}

/** The lookup sync proves domains with: the sign-in host of the customer's cloud. */
export function signInLookup(client: Client) {
  return (c: Customer, domain: string) => lookupTenant(client, c.cloud, domain);
}
