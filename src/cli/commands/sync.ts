// `mdm-discovery sync`: the config follows the customers a source lists, every domain proved first.
import { readFile } from 'node:fs/promises';
import type { Customer } from '../../sync/csv.js';
import type { SyncReport } from '../../sync/sync.js';
import type { Client } from '../../verify/fetch.js';
import { parse } from '../args.js';
import { type Command, type Io, UsageError } from '../command.js';
import { lookupClient, NETWORK_OPTIONS, NETWORK_USAGE, networkOptions } from '../network.js';

const USAGE = `Usage: mdm-discovery sync --from csv FILE --out DIR [options]
       mdm-discovery sync --from cipp --url URL --out DIR [options]
       mdm-discovery sync --from graph [--cloud commercial|usgov|china] --out DIR [options]

Writes one config file per customer (sync-<name>.json) into DIR, a config directory the service
reads, each domain proved on the cloud's Entra sign-in host before it is served. Files sync did
not write are never touched; a domain a hand-written tenant serves is left to it.

  --from csv FILE        customers from a CSV: name, domains (separated by ; or spaces),
                         tenantId, and optionally cloud (commercial, usgov, china)
  --from cipp --url URL  customers from CIPP (ListTenants, ListDomains), with the Entra app in
                         CIPP_CLIENT_ID, CIPP_CLIENT_SECRET, CIPP_TENANT_ID (environment only)
  --from graph           the partner's GDAP customers from Microsoft Graph, with the Entra app
                         in GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_TENANT_ID (environment
                         only); --cloud commercial (default), usgov or china
  --out DIR              the config directory to write into
  --include KEY          also take this customer: its name, a domain or its tenant ID
                         (repeatable; @FILE for one key per line)
  --exclude KEY          never take this customer (repeatable; @FILE)
  --all                  take every customer of the source
                         (by default: only those sync already wrote, and --include)
  --dry-run              print what would be added, changed and removed; write nothing
  --prune                remove the file of a customer the source no longer lists
${NETWORK_USAGE}
Exit codes: 0 nothing changed, 3 changed, 1 failed (nothing written), 2 usage error.
`;

/** Keys given on the command line, and the lines of every @FILE among them. */
async function keys(given: readonly string[] | undefined): Promise<string[]> {
  const out: string[] = [];
  for (const key of given ?? []) {
    if (!key.startsWith('@')) {
      out.push(key);
      continue;
    }
    const text = await readFile(key.slice(1), 'utf8').catch(() => {
      throw new UsageError(`${key}: cannot be read`);
    });
    out.push(
      ...text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    );
  }
  return out;
}

interface Source {
  /** `csv:<file>`, `cipp:<url>`: what each tenant's `sync.from` says. */
  readonly label: string;
  customers(
    client: Client,
    take: (tenant: { id: string; name: string; defaultDomain: string }) => boolean,
  ): Promise<Customer[]>;
}

/** The source `--from` names; credentials from the environment, never from arguments. */
/** Credentials from the environment; a usage error names what is missing. */
function credentialsFrom(names: readonly [string, string, string]) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new UsageError(
      `set ${missing.join(', ')} in the environment (never on the command line)`,
    );
  }
  const [clientId = '', clientSecret = '', tenantId = ''] = names.map((n) => process.env[n]);
  return { clientId, clientSecret, tenantId };
}

async function sourceOf(
  values: { from?: string | undefined; url?: string | undefined; cloud?: string | undefined },
  positionals: string[],
): Promise<Source> {
  const { from, url } = values;
  if (from === 'csv') {
    const [file, ...rest] = positionals;
    if (file === undefined) throw new UsageError('--from csv needs the CSV file');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const { customersFromCsv, SyncInputError } = await import('../../sync/csv.js');
    return {
      label: `csv:${file}`,
      customers: async () => {
        const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new SyncInputError(`${file}: cannot be read (${error.code})`);
        });
        return customersFromCsv(text, file);
      },
    };
  }
  if (from === 'cipp') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let base: URL;
    try {
      base = new URL(url ?? '');
    } catch {
      throw new UsageError('--from cipp needs --url https://… (your CIPP address)');
    }
    if (base.protocol !== 'https:') throw new UsageError('--url must be https');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const { CIPP_ENV, customersFromCipp } = await import('../../sync/cipp.js');
    const credentials = credentialsFrom(CIPP_ENV);
    return {
      label: `cipp:${base.origin}`,
      customers: (client, take) => customersFromCipp(client, base, credentials, take),
    };
  }
  if (from === 'graph') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const cloud = values.cloud ?? 'commercial';
    if (cloud !== 'commercial' && cloud !== 'usgov' && cloud !== 'china') {
      throw new UsageError('--cloud is commercial, usgov or china');
    }
    const { GRAPH_ENV, customersFromGraph } = await import('../../sync/graph.js');
    const credentials = credentialsFrom(GRAPH_ENV);
    return {
      label: `graph:${cloud}`,
      customers: (client, take) => customersFromGraph(client, cloud, credentials, take),
    };
  }
  throw new UsageError('--from is csv FILE, cipp --url URL, or graph');
}

/** Each tenant added, changed or removed (with the domains it gains and loses), then the notes. */
function printReport(io: Io, report: SyncReport, dryRun: boolean): void {
  const would = dryRun ? 'would be ' : '';
  for (const [what, names] of [
    ['added', report.added],
    ['changed', report.changed],
    ['removed', report.removed],
  ] as const) {
    for (const name of names) {
      io.stdout.write(`${would}${what}: ${name}\n`);
      const changes = report.domains.get(name);
      for (const d of changes?.added ?? []) io.stdout.write(`  + ${d}\n`);
      for (const d of changes?.removed ?? []) io.stdout.write(`  - ${d}\n`);
    }
  }
  for (const name of report.kept) {
    io.stdout.write(`kept: ${name} (no longer in the source; --prune removes it)\n`);
  }
  for (const note of report.notes) io.stdout.write(`note: ${note}\n`);
}

export const syncCommand: Command = {
  usage: USAGE,
  async run(args, { io }) {
    const { values, positionals } = parse(args, {
      from: { type: 'string' },
      url: { type: 'string' },
      cloud: { type: 'string' },
      out: { type: 'string' },
      include: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      prune: { type: 'boolean' },
      ...NETWORK_OPTIONS,
    });
    const source = await sourceOf(values, positionals);
    if (values.out === undefined) throw new UsageError('--out DIR is required');
    const out = values.out;
    const { runSync, signInLookup, takes, writtenCustomers } = await import('../../sync/sync.js');
    const started = Date.now();
    const line = (fields: Record<string, unknown>) =>
      io.stdout.write(
        `${JSON.stringify({ msg: 'sync', from: source.label, ...fields, ms: Date.now() - started })}\n`,
      );
    const client = await lookupClient(await networkOptions(values));
    try {
      const selection = {
        include: await keys(values.include),
        exclude: await keys(values.exclude),
        all: values.all === true,
      };
      const take = takes(selection, await writtenCustomers(out));
      const customers = await source.customers(client, (t) =>
        take({ id: t.id, name: t.name, domains: [t.defaultDomain] }),
      );
      const report = await runSync(customers, {
        out,
        from: source.label,
        ...selection,
        dryRun: values['dry-run'] === true,
        prune: values.prune === true,
        now: new Date(),
        lookup: signInLookup(client),
      });
      printReport(io, report, values['dry-run'] === true);
      line({
        customers: report.customers,
        selected: report.selected,
        added: report.added.length,
        changed: report.changed.length,
        removed: report.removed.length,
        notes: report.notes.length,
        dryRun: values['dry-run'] === true,
        outcome: report.outcome,
      });
      return report.outcome === 'changed' && !values['dry-run'] ? 3 : 0;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      io.stderr.write(`mdm-discovery sync: ${(error as Error).message}\n`);
      line({ outcome: 'failed' });
      return 1;
    } finally {
      await client.agent.close();
    }
  },
};
