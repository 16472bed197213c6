// Conditions of routing rules: compiled once, each a cheap test of the request. Pure.
import { hash } from 'node:crypto';
import { nearestParent } from './host.js';
import { isModelFamily } from './query.js';

/** What the conditions look at, derived once per request. */
export interface MatchInput {
  /** user-identifier, lower-cased; undefined when absent. */
  readonly user: string | undefined;
  /** Its domain (after the last `@`), ASCII lower-case; undefined without one. */
  readonly domain: string | undefined;
  /** `absent`, `unknown`, or one of Apple's model families. */
  readonly family: string;
}

export interface Condition {
  /** How `explain` names it: `modelFamilies [Mac, RealityDevice]`. */
  readonly label: string;
  readonly test: (input: MatchInput) => boolean;
}

export function familyClass(modelFamily: string | undefined): string {
  if (modelFamily === undefined) return 'absent';
  return isModelFamily(modelFamily) ? modelFamily : 'unknown';
}

/**
 * A matcher for a glob where `*` stands for any run of characters; everything else is literal.
 * Linear-time greedy matching with one backtrack point (no regular expression, so no ReDoS).
 * Both sides must already be lower-cased.
 */
export function globMatcher(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*')) return (text) => text === pattern;
  return (text) => {
    let p = 0;
    let t = 0;
    let star = -1;
    let resume = 0;
    while (t < text.length) {
      if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
        p++;
        t++;
      } else if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        resume = t;
      } else if (star !== -1) {
        p = star + 1;
        t = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length && pattern[p] === '*') p++;
    return p === pattern.length;
  };
}

/**
 * A person's bucket for a rule, 0 to 9999: the same for the same lower-cased identifier and rule
 * name in every process and after every restart, and independent between rules.
 */
export function percentBucket(ruleName: string, user: string): number {
  // One-shot hash (Node 20.12+): no Hash object per request; the same digest as before.
  return hash('sha256', `${ruleName}\n${user}`, 'buffer').readUInt32BE(0) % 10_000;
}

/** Exact domains, and `*.` wildcards matching any name below their domain. */
export function domainMatcher(patterns: readonly string[]): (domain: string) => boolean {
  const exact = new Set(patterns.filter((d) => !d.startsWith('*.')));
  const below = new Set(patterns.filter((d) => d.startsWith('*.')).map((d) => d.slice(2)));
  return (domain) =>
    exact.has(domain) ||
    nearestParent(domain, (parent) => (below.has(parent) ? true : undefined)) === true;
}
