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
  const counts = new Map<string, number>();
  return {
    hit(client, now = Date.now()) {
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        counts.clear();
      }
      let key = client;
      let seen = counts.get(key);
      if (seen === undefined && counts.size >= maxClients) {
        key = OVERFLOW;
        seen = counts.get(key);
      }
      if (seen !== undefined && seen >= perMinute) {
        return Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
      }
      counts.set(key, (seen ?? 0) + 1);
      return 0;
    },
  };
}
