// One question asked in public and compared with the config's own answer: verify --config and the watcher.

import { decide } from '../discovery/decide.js';
import { deviceQuery } from '../discovery/query.js';
import type { PreparedResponse } from '../discovery/response.js';
import type { RoutingTable } from '../discovery/table.js';
import { type Answer, header } from './evaluate.js';
import { type Client, fetchAnswer } from './fetch.js';

/** The public answer (or why there was none), the config's, and whether they are the same. */
export type Asked =
  | { readonly answer: Answer; readonly expected: PreparedResponse; readonly matches: boolean }
  | { readonly error: unknown; readonly expected: PreparedResponse; readonly matches: false };

/**
 * Asks `url` (the domain's discovery URL) as `user` on a `modelFamily` device and compares the
 * answer with what `table` answers for the same question: the same status, and the same
 * `Location` for a redirect, else the same body, byte for byte.
 */
export async function askAsConfigured(
  client: Client,
  table: RoutingTable,
  domain: string,
  url: URL,
  user: string,
  modelFamily: string,
): Promise<Asked> {
  const search = deviceQuery(user, modelFamily);
  const expected = decide(table, { host: domain, search }).response;
  const ask = new URL(url);
  ask.search = search;
  let answer: Answer;
  try {
    answer = await fetchAnswer(client, ask, 'GET');
  } catch (error) {
    return { error, expected, matches: false };
  }
  const location = header(answer, 'location');
  const matches =
    answer.status === expected.status &&
    (expected.headers.location !== undefined
      ? location === expected.headers.location
      : answer.body.toString('utf8') === expected.body);
  return { answer, expected, matches };
}
