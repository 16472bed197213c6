// A per-client request limit: a fixed one-minute window, one counter per client address.

export interface RateLimiter {
  /** 0 when the request may go on, else the seconds until the client may try again. */
  hit(client: string, now?: number): number;
}

const WINDOW_MS = 60_000;
/** Past this many clients in one window, new ones are not counted: memory stays bounded under a flood of addresses. */
const MAX_CLIENTS = 100_000;

export function createRateLimiter(perMinute: number): RateLimiter {
  let windowStart = 0;
  const counts = new Map<string, number>();
  return {
    hit(client, now = Date.now()) {
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        counts.clear();
      }
      const seen = counts.get(client);
      if (seen === undefined) {
        if (counts.size < MAX_CLIENTS) counts.set(client, 1);
        return 0;
      }
      if (seen >= perMinute) return Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
      counts.set(client, seen + 1);
      return 0;
    },
  };
}
