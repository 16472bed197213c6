// The discovery query string, read the way Apple devices write it and defensively against everything else.

import { MODEL_FAMILIES, type ModelFamily } from '../protocol.js';

export { MODEL_FAMILIES, type ModelFamily };

export interface DiscoveryQuery {
  /** `user-identifier` decoded, exactly as the person typed it; undefined when absent or empty. */
  readonly userIdentifier: string | undefined;
  /** `model-family` decoded; any value is kept, unknown ones are not an error. */
  readonly modelFamily: string | undefined;
}

export type QueryResult =
  | { readonly ok: true; readonly query: DiscoveryQuery }
  | { readonly ok: false; readonly parameter: 'user-identifier' | 'model-family' };

const EMPTY: QueryResult = {
  ok: true,
  query: { userIdentifier: undefined, modelFamily: undefined },
};

/**
 * Reads `user-identifier` and `model-family` from a raw query string (without the `?`).
 * - `@` may arrive raw or as `%40`: both decode to `@`.
 * - `+` is kept as `+` (RFC 3986 query, not HTML form encoding): `joe+mdm@contoso.com` stays intact.
 * - A repeated parameter: the first occurrence wins, as in Go's url.Values.Get.
 * - Invalid percent-encoding in one of these two parameters is reported, never thrown.
 * Other parameters are ignored without being decoded.
 */
export function parseDiscoveryQuery(search: string): QueryResult {
  if (search.length === 0) return EMPTY;
  let userIdentifier: string | undefined;
  let modelFamily: string | undefined;
  let userSeen = false;
  let familySeen = false;
  for (const pair of search.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const name = rawName.includes('%') ? safeDecode(rawName) : rawName;
    if (name === 'user-identifier' && !userSeen) {
      userSeen = true;
      const value = decodeValue(pair, eq);
      if (value === null) return { ok: false, parameter: 'user-identifier' };
      userIdentifier = value;
    } else if (name === 'model-family' && !familySeen) {
      familySeen = true;
      const value = decodeValue(pair, eq);
      if (value === null) return { ok: false, parameter: 'model-family' };
      modelFamily = value;
    }
    if (userSeen && familySeen) break;
  }
  return { ok: true, query: { userIdentifier, modelFamily } };
}

/** The decoded value; undefined for an empty value; null for invalid percent-encoding. */
function decodeValue(pair: string, eq: number): string | undefined | null {
  if (eq === -1 || eq === pair.length - 1) return undefined;
  const raw = pair.slice(eq + 1);
  if (!raw.includes('%')) return raw;
  return safeDecode(raw) ?? null;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The domain part of an identifier (after the last `@`), lower-cased; undefined without one. */
export function userDomain(userIdentifier: string | undefined): string | undefined {
  if (userIdentifier === undefined) return undefined;
  const at = userIdentifier.lastIndexOf('@');
  if (at === -1 || at === userIdentifier.length - 1) return undefined;
  return userIdentifier.slice(at + 1).toLowerCase();
}

export function isModelFamily(value: string | undefined): value is ModelFamily {
  return value !== undefined && (MODEL_FAMILIES as readonly string[]).includes(value);
}

/**
 * The query as a device writes it: `user-identifier` first, `@` and `+` left raw, everything else
 * percent-encoded (docs/protocol.md section 1). `encoded` escapes `@` and `+` too, as most HTTP
 * clients would.
 */
export function deviceQuery(user: string, family: string | undefined, encoded = false): string {
  const write = (value: string) =>
    encoded
      ? encodeURIComponent(value)
      : encodeURIComponent(value).replace(/%40/g, '@').replace(/%2B/g, '+');
  // Without a family: what systems before model-family sent.
  return family === undefined
    ? `user-identifier=${write(user)}`
    : `user-identifier=${write(user)}&model-family=${write(family)}`;
}
