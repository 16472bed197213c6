// Customers from a CSV that a PSA or a spreadsheet exports: name, domains, Entra tenant ID, cloud.
import { checkDomain, GUID } from '../config/checks.js';
import type { IntuneCloud } from '../config/presets.js';
import { appleReservedDomain } from '../protocol.js';

/** One customer organisation, as any source gives it. */
export interface Customer {
  /** Its Entra tenant ID (a GUID, lower case): the aadTenantId of its BaseURL. */
  readonly id: string;
  readonly name: string;
  /** The domains the source lists as the customer's (each proved before it is served). */
  readonly domains: readonly string[];
  readonly cloud: IntuneCloud;
}

/** A source's input refused: the message names the file, the row and the column. */
export class SyncInputError extends Error {
  readonly code = 'MDM_SYNC_INPUT';
}

const COLUMNS = ['name', 'domains', 'tenantid', 'cloud'] as const;
const CLOUDS = ['commercial', 'usgov', 'china'] as const;

/** RFC 4180 rows: fields separated by commas, quoted with `"` (a `""` inside is one quote). */
function rows(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new SyncInputError('a quoted field is never closed');
  if (field !== '' || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out.filter((r) => r.some((f) => f.trim() !== ''));
}

/**
 * The customers of a CSV with a header row naming `name`, `domains` (separated by `;` or spaces),
 * `tenantId` and, optionally, `cloud` (commercial by default), in any order and case.
 */
export function customersFromCsv(text: string, file: string): Customer[] {
  let all: string[][];
  try {
    all = rows(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new SyncInputError(`${file}: ${(error as Error).message}`);
  }
  const [header, ...body] = all;
  if (header === undefined)
    throw new SyncInputError(`${file}: empty; give a header row and one row per customer`);
  const names = header.map((h) => h.trim().toLowerCase());
  const at = Object.fromEntries(COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<
    (typeof COLUMNS)[number],
    number
  >;
  for (const required of ['name', 'domains', 'tenantid'] as const) {
    if (at[required] === -1) {
      throw new SyncInputError(
        `${file}: row 1 (the header) has no "${required === 'tenantid' ? 'tenantId' : required}" column; give name, domains, tenantId and optionally cloud`,
      );
    }
  }
  return body.map((fields, i) => {
    const row = i + 2;
    const cell = (column: (typeof COLUMNS)[number]) => (fields[at[column]] ?? '').trim();
    const refuse = (column: string, message: string): never => {
      throw new SyncInputError(`${file}: row ${row}, column "${column}": ${message}`);
    };
    const name = cell('name');
    if (name === '') refuse('name', 'is empty');
    const id = cell('tenantid').toLowerCase();
    if (!GUID.test(id))
      refuse('tenantId', `"${cell('tenantid')}" is not an Entra tenant ID (a GUID)`);
    const cloud = (at.cloud === -1 ? '' : cell('cloud').toLowerCase()) || 'commercial';
    if (!(CLOUDS as readonly string[]).includes(cloud)) {
      refuse('cloud', `"${cell('cloud')}" is not one of ${CLOUDS.join(', ')}`);
    }
    const domains = cell('domains')
      .split(/[;\s]+/)
      .filter(Boolean)
      .map((raw) => {
        // Apple's reserved domains are listed, and left out by the proof (sync.ts).
        if (appleReservedDomain(raw) !== undefined) return raw.toLowerCase();
        const checked = checkDomain(raw);
        if ('error' in checked) return refuse('domains', checked.error);
        if (checked.value.startsWith('*.'))
          return refuse('domains', `"${raw}" is a wildcard; list each domain`);
        return checked.value;
      });
    if (domains.length === 0) refuse('domains', 'is empty');
    return { id, name, domains, cloud: cloud as IntuneCloud };
  });
}
