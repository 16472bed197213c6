// zod's issues as messages for people: the fix named, and errors that only follow from another dropped.
import type { z } from 'zod';
import { formatPath } from './json-positions.js';
import { excerpt } from './problems.js';
import { nearest } from './suggest.js';

/** Custom errors that a misspelt key already explains ("nowhere to enroll" after "intnue"). */
const FOLLOW_ON = new Set(['enroll-choice', 'action-choice', 'when-empty']);

/**
 * Drops errors that only follow from another: a key reported as required when a misspelling of it
 * was found ("domain" for "domains"), and "nowhere to enroll" when an unknown key is the cause.
 */
export function relevant(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const unknown = new Map<string, string[]>();
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') unknown.set(formatPath(issue.path), issue.keys);
  }
  if (unknown.size === 0) return [...issues];
  return issues.filter((issue) => {
    const parent = formatPath(issue.path.slice(0, -1));
    const last = issue.path[issue.path.length - 1];
    if (issue.code === 'invalid_type' && issue.input === undefined && typeof last === 'string') {
      const typos = unknown.get(parent) ?? [];
      if (typos.some((typo) => nearest(typo, [last]) !== undefined)) return false;
    }
    if (issue.code === 'custom' && FOLLOW_ON.has(String(issue.params?.kind))) {
      return !unknown.has(formatPath(issue.path));
    }
    return true;
  });
}

export function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return 'is required';
    return `must be ${article(issue.expected)}, not ${describe(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
    const strings = issue.values.filter((v): v is string => typeof v === 'string');
    const near = typeof issue.input === 'string' ? nearest(issue.input, strings) : undefined;
    return `${excerpt(JSON.stringify(issue.input) ?? '')} is not allowed; use ${near ? `"${near}"` : `one of ${allowed}`}`;
  }
  return issue.message;
}

function article(expected: string): string {
  return expected === 'array' || expected === 'object' ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${excerpt(JSON.stringify(value) ?? '')}`;
}
