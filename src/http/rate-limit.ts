// A per-client request limit: a fixed one-minute window, counted exactly per client up to a bound, estimated past it.
import { randomInt } from 'node:crypto';
import { clientKey, DEFAULT_IPV6_PREFIX } from '../address.js';
import { remember } from '../remember.js';

export interface RateLimiter {
  /** 0 when the request may go on, else the seconds until the client may try again. */
  hit(client: string, now?: number): number;
}

const WINDOW_MS = 60_000;
/** Clients counted one by one in a window; memory stays bounded under a flood of addresses. */
export const MAX_CLIENTS = 100_000;
/** The estimate past MAX_CLIENTS: SKETCH_ROWS rows of SKETCH_WIDTH counters (4 MiB). */
const SKETCH_ROWS = 4;
const SKETCH_WIDTH = 1 << 18;

export interface RateLimiterOptions {
  readonly perMinute: number;
  /** Clients counted exactly per window; the rest are estimated (see createRateLimiter). */
  readonly maxClients?: number;
  /** IPv6 addresses sharing this many leading bits count as one client (1 to 128). */
  readonly ipv6Prefix?: number;
}

/**
 * Up to `maxClients` clients a window are counted exactly. Every client past that is counted in a
 * count-min sketch (SKETCH_ROWS rows of SKETCH_WIDTH counters, hashed with a key drawn at start):
 * its estimate is never below its true count, so a client that floods is still refused, while a
 * client never seen before gets an estimate near zero, so a flood from many addresses does not
 * lock out the devices it is meant to protect. The estimate errs by about (requests past the
 * bound in this window) / SKETCH_WIDTH upwards (SECURITY.md has the figures). A refused request
 * does not count, so asking again is refused the same.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { perMinute, maxClients = MAX_CLIENTS, ipv6Prefix = DEFAULT_IPV6_PREFIX } = options;
  let windowStart = 0;
  // A count per client, as a small object: a client seen before is looked up once per hit.
  const counts = new Map<string, { n: number }>();
  const ipv6Keys = new Map<string, string>();
  // Made the first time the table is full (4 MiB), then kept and emptied with the window.
  let sketch: ReturnType<typeof countMinSketch> | undefined;
  const wait = (now: number) => Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
  return {
    hit(address, now = Date.now()) {
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        counts.clear();
        sketch?.clear();
      }
      // IPv4 is its own key; an IPv6 address's key is worked out once (about 0.6 µs) and kept.
      const client = address.includes(':')
        ? remember(ipv6Keys, address, () => clientKey(address, ipv6Prefix), MAX_CLIENTS)
        : address;
      let seen = counts.get(client);
      if (seen === undefined) {
        if (counts.size >= maxClients) {
          sketch ??= countMinSketch();
          return sketch.hit(client, perMinute) ? 0 : wait(now);
        }
        seen = { n: 0 };
        counts.set(client, seen);
      }
      if (seen.n >= perMinute) return wait(now);
      seen.n++;
      return 0;
    },
  };
}

/**
 * A count-min sketch with conservative update: `hit` counts `key` and returns true while its
 * estimate is under `limit`, or returns false and counts nothing.
 */
function countMinSketch(): { hit(key: string, limit: number): boolean; clear(): void } {
  const rows = Array.from({ length: SKETCH_ROWS }, () => new Uint32Array(SKETCH_WIDTH));
  // Keyed per process, so that nobody can pick addresses that land on a victim's counters.
  const seeds = Array.from({ length: SKETCH_ROWS }, () => randomInt(1, 2 ** 31));
  const slots = new Array<number>(SKETCH_ROWS);
  return {
    hit(key, limit) {
      let estimate = Number.MAX_SAFE_INTEGER;
      for (let r = 0; r < SKETCH_ROWS; r++) {
        // FNV-1a over the key's UTF-16 units, started from the row's seed.
        let h = (seeds[r] as number) ^ 0x811c9dc5;
        for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
        h ^= h >>> 15;
        const slot = (Math.imul(h, 0x2c1b3c6d) >>> 0) & (SKETCH_WIDTH - 1);
        slots[r] = slot;
        estimate = Math.min(estimate, (rows[r] as Uint32Array)[slot] as number);
      }
      if (estimate >= limit) return false;
      // Conservative update: only the counters at the estimate grow, which keeps the error small.
      for (let r = 0; r < SKETCH_ROWS; r++) {
        const row = rows[r] as Uint32Array;
        const slot = slots[r] as number;
        if ((row[slot] as number) === estimate) row[slot] = estimate + 1;
      }
      return true;
    },
    clear() {
      for (const row of rows) row.fill(0);
    },
  };
}
