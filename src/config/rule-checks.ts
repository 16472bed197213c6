// Rules that are legal but cannot work as written: said as warnings, with the rule that is to blame.
import { domainMatcher } from '../discovery/match.js';
import { FAMILY_CHOICES, type RuleConfig, type WhenConfig } from './schema.js';

export interface RuleWarning {
  /** Index of the rule the warning is about. */
  readonly rule: number;
  readonly message: string;
}

const USER_CONDITIONS = ['users', 'usersFile', 'userDomains', 'userPatterns', 'percent'] as const;

export function ruleWarnings(rules: readonly RuleConfig[]): RuleWarning[] {
  const warnings: RuleWarning[] = [];
  rules.forEach((rule, index) => {
    if (rule.when.percent === 0) {
      warnings.push({
        rule: index,
        message: `rule "${rule.name}" never matches: its percent is 0`,
      });
      return;
    }
    for (const earlier of rules.slice(0, index)) {
      if (covers(earlier.when, rule.when)) {
        warnings.push({
          rule: index,
          message: `rule "${rule.name}" can never match: rule "${earlier.name}" before it matches every request it would`,
        });
        return;
      }
      const p = earlier.when.percent;
      const q = rule.when.percent;
      if (p !== undefined && q !== undefined && sameApartFromPercent(earlier.when, rule.when)) {
        const overall = Math.round(q * (100 - p)) / 100;
        warnings.push({
          rule: index,
          message: `rule "${rule.name}" (percent ${q}) follows rule "${earlier.name}" (percent ${p}) with the same other conditions; each rule draws its own buckets, so "${rule.name}" gets ${q}% of the ${100 - p}% that "${earlier.name}" leaves: ${overall}% of requests`,
        });
      }
    }
  });
  return warnings;
}

function requiresUser(when: WhenConfig): boolean {
  return USER_CONDITIONS.some((key) => when[key] !== undefined);
}

/** Whether every request that `later` matches is matched by `earlier` (a safe under-estimate). */
function covers(earlier: WhenConfig, later: WhenConfig): boolean {
  return COVERS.every((condition) => condition(earlier, later));
}

/** One condition of `earlier` each: true when it lets through every request `later` matches. */
const COVERS: readonly ((earlier: WhenConfig, later: WhenConfig) => boolean)[] = [
  (earlier, later) => {
    if (!earlier.modelFamilies) return true;
    const all = FAMILY_CHOICES.every((f) => earlier.modelFamilies?.includes(f));
    return all || (later.modelFamilies?.every((f) => earlier.modelFamilies?.includes(f)) ?? false);
  },
  (earlier, later) => {
    if (earlier.percent === undefined) return true;
    if (earlier.percent >= 100 && requiresUser(later)) return true;
    return (
      later.percent !== undefined &&
      sameApartFromPercent(earlier, later) &&
      earlier.percent === later.percent
    );
  },
  (earlier, later) => {
    if (!earlier.userPatterns) return true;
    if (earlier.userPatterns.includes('*') && requiresUser(later)) return true;
    return sameList(earlier.userPatterns, later.userPatterns);
  },
  (earlier, later) => {
    if (!(earlier.users || earlier.usersFile)) return true;
    if (earlier.usersFile !== later.usersFile) return false;
    if (!(later.users ?? []).every((u) => earlier.users?.includes(u))) return false;
    return !(later.users === undefined && later.usersFile === undefined);
  },
  (earlier, later) => {
    if (!earlier.userDomains) return true;
    const exactly = domainMatcher(earlier.userDomains);
    const wildcards = earlier.userDomains.filter((d) => d.startsWith('*.')).map((d) => d.slice(2));
    // An exact domain is covered when it matches; "*.x" when every name below x is below a wildcard.
    const covered = (d: string) =>
      d.startsWith('*.')
        ? wildcards.some((w) => d.slice(2) === w || d.endsWith(`.${w}`))
        : exactly(d);
    return later.userDomains?.every(covered) === true;
  },
];

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.length === b.length && a.every((x) => b.includes(x))
  );
}

function sameApartFromPercent(a: WhenConfig, b: WhenConfig): boolean {
  const { percent: _a, ...restA } = a;
  const { percent: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}
