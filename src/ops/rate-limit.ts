// A per-client request limit: a fixed one-minute window, one counter per client address.

export interface RateLimiter {
  /** 0 when the request may go on, else the seconds until the client may try again. */
  hit(client: string, now?: number): number;
}

const WINDOW_MS = 60_000;
/** Addresses counted one by one in a window; memory stays bounded under a flood of addresses. */
export const MAX_CLIENTS = 100_000;
/** The key every address past MAX_CLIENTS shares (no address contains a NUL). */
const OVERFLOW = '\0overflow';

/**
 * Past `maxClients` addresses in one window, every new address counts against one shared budget
 * of `perMinute`: an attacker with more addresses than the table holds gets that budget once,
 * not a fresh one per address. Addresses already in the table keep their own.
 */
export function createRateLimiter(perMinute: number, maxClients = MAX_CLIENTS): RateLimiter {
  let windowStart = 0;
  // A count per address, as a small object: an address seen before is looked up once per hit.
  const counts = new Map<string, { n: number }>();
  return {
    hit(client, now = Date.now()) {
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        counts.clear();
      }
      let seen = counts.get(client);
      if (seen === undefined) {
        const key = counts.size < maxClients ? client : OVERFLOW;
        seen = counts.get(key);
        if (seen === undefined) {
          seen = { n: 0 };
          counts.set(key, seen);
        }
      }
      if (seen.n >= perMinute) {
        return Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
      }
      seen.n++;
      return 0;
    },
  };
}
