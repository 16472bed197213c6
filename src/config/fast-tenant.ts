// The common shapes of a tenant validated without zod, and equal parts of many tenants made once.
import { VERSIONS } from '../protocol.js';
import { remember } from '../remember.js';
import { checkDomain, checkHttpsUrl, GUID } from './checks.js';
import {
  FLEET_PATH,
  fleetServer,
  hasPresetPath,
  INTUNE_HOSTS,
  type IntuneCloud,
  intuneServer,
  JAMF_PATHS,
  type JamfEnrollment,
  jamfServer,
} from './presets.js';
import {
  ACTIONS,
  type Action,
  DEFAULTS,
  FAMILY_CHOICES,
  identifierError,
  MAX_MESSAGE_LENGTH,
  NAME,
  patternError,
  type RuleConfig,
  SCHEMA_KEYS,
  type Server,
  type TenantConfig,
  type WhenConfig,
} from './schema.js';

/** Anything unusual or wrong: the caller hands the tenant to zod, which decides and words it. */
const UNSURE = Symbol('unsure');
type Unsure = typeof UNSURE;

// A tenant with a `watch` or `sync` key is left to zod: the fast path reads the shapes most
// tenants have.
const TENANT_KEYS = new Set(SCHEMA_KEYS.tenant.filter((key) => key !== 'watch' && key !== 'sync'));
const RULE_KEYS = new Set(SCHEMA_KEYS.rule);
const INTUNE_KEYS = new Set(SCHEMA_KEYS.intune);
const JAMF_KEYS = new Set(SCHEMA_KEYS.jamf);
const FLEET_KEYS = new Set(SCHEMA_KEYS.fleet);
const REJECT_KEYS = new Set(SCHEMA_KEYS.reject);
const REDIRECT_KEYS = new Set(SCHEMA_KEYS.redirect);
const FAMILIES = new Set<string>(FAMILY_CHOICES);
const CLOUDS = new Set(Object.keys(INTUNE_HOSTS));

/**
 * A parser for one load: each call returns the tenant exactly as `tenantSchema` would (deep
 * equal, keys in the same order), or undefined when the tenant is anything but a common valid
 * shape, for zod to judge. It never refuses: every error message stays zod's. Equal rules and
 * servers (by their JSON) are validated and made once and shared by every tenant that has them,
 * and each distinct URL is parsed once, so that 100,000 tenants with the same rule hold one rule.
 * test/config/fast-tenant.test.ts checks on generated tenants that whatever this accepts, zod
 * accepts with an equal result.
 */
export function fastTenantParser(): (raw: unknown) => TenantConfig | undefined {
  const rules = new Map<string, RuleConfig | Unsure>();
  const servers = new Map<string, Server | Unsure>();
  const urls = new Map<string, boolean>();
  const enrollActions = new Map<Server, Action>();

  const httpsUrl = (raw: unknown, query: boolean): raw is string => {
    if (typeof raw !== 'string') return false;
    return remember(
      urls,
      `${query ? '?' : '-'}${raw}`,
      () => 'value' in checkHttpsUrl(raw, { query }),
    );
  };

  const server = (raw: unknown): Server | Unsure => {
    if (!isObject(raw)) return UNSURE;
    return remember(servers, JSON.stringify(raw), () => readServer(raw, httpsUrl));
  };

  const action = (raw: Record<string, unknown>): Action | Unsure => {
    let given: (typeof ACTIONS)[number] | undefined;
    for (const key of ACTIONS) {
      if (raw[key] === undefined) continue;
      if (given !== undefined) return UNSURE;
      given = key;
    }
    switch (given) {
      case 'enroll': {
        const made = server(raw.enroll);
        if (made === UNSURE) return UNSURE;
        return remember(enrollActions, made, () => ({ kind: 'enroll', server: made }));
      }
      case 'reject':
        return readReject(raw.reject);
      case 'notFound':
        return raw.notFound === true ? { kind: 'notFound' } : UNSURE;
      case 'appleBusiness':
        return raw.appleBusiness === true ? { kind: 'appleBusiness' } : UNSURE;
      case 'redirect':
        return readRedirect(raw.redirect, httpsUrl);
      default:
        return UNSURE;
    }
  };

  const rule = (raw: unknown): RuleConfig | Unsure => {
    if (!isObject(raw)) return UNSURE;
    return remember(rules, JSON.stringify(raw), (): RuleConfig | Unsure => {
      if (!onlyKeys(raw, RULE_KEYS) || !isName(raw.name)) return UNSURE;
      const when = readWhen(raw.when);
      const act = when === UNSURE ? UNSURE : action(raw);
      return when === UNSURE || act === UNSURE ? UNSURE : { name: raw.name, when, action: act };
    });
  };

  return (raw) => {
    if (!isObject(raw) || !onlyKeys(raw, TENANT_KEYS) || !isName(raw.name)) return undefined;
    const domains = readDomains(raw.domains);
    if (domains === UNSURE) return undefined;
    const own = action(raw);
    if (own === UNSURE) return undefined;
    const list: RuleConfig[] = [];
    if (raw.rules !== undefined) {
      if (!Array.isArray(raw.rules)) return undefined;
      const names = new Set<string>();
      for (const item of raw.rules) {
        const made = rule(item);
        if (made === UNSURE || names.has(made.name)) return undefined;
        names.add(made.name);
        list.push(made);
      }
    }
    return { name: raw.name, domains, action: own, rules: list, watch: NO_WATCH };
  };
}

/** `watch` of every tenant that has none (a tenant with one goes to zod). */
const NO_WATCH: TenantConfig['watch'] = Object.freeze({});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) {
    if (!allowed.has(key)) return false;
  }
  return true;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

/** A non-empty array whose every item `read` takes, or UNSURE. */
function readList<T>(value: unknown, read: (item: unknown) => T | Unsure): T[] | Unsure {
  if (!Array.isArray(value) || value.length === 0) return UNSURE;
  const out: T[] = [];
  for (const item of value) {
    const made = read(item);
    if (made === UNSURE) return UNSURE;
    out.push(made);
  }
  return out;
}

function readDomain(value: unknown): string | Unsure {
  if (typeof value !== 'string') return UNSURE;
  const checked = checkDomain(value);
  return 'value' in checked ? checked.value : UNSURE;
}

function readDomains(value: unknown): string[] | Unsure {
  return readList(value, readDomain);
}

function lowerCased(error: (raw: string) => string | undefined) {
  return (value: unknown): string | Unsure =>
    typeof value === 'string' && error(value) === undefined ? value.toLowerCase() : UNSURE;
}
const readIdentifier = lowerCased(identifierError);
const readPattern = lowerCased(patternError);

/** `when`, with its keys in the schema's order (zod writes them so). */
function readWhen(raw: unknown): WhenConfig | Unsure {
  if (!isObject(raw)) return UNSURE;
  const when: Record<string, unknown> = {};
  let keys = 0;
  for (const key in raw) {
    keys++;
    if (raw[key] === undefined) return UNSURE;
  }
  if (keys === 0) return UNSURE;
  let read = 0;
  const take = <T>(key: string, made: T | Unsure): boolean => {
    if (raw[key] === undefined) return true;
    if (made === UNSURE) return false;
    when[key] = made;
    read++;
    return true;
  };
  const ok =
    take('users', raw.users === undefined ? UNSURE : readList(raw.users, readIdentifier)) &&
    take(
      'usersFile',
      typeof raw.usersFile === 'string' && raw.usersFile.length > 0 ? raw.usersFile : UNSURE,
    ) &&
    take('userDomains', raw.userDomains === undefined ? UNSURE : readDomains(raw.userDomains)) &&
    take(
      'userPatterns',
      raw.userPatterns === undefined ? UNSURE : readList(raw.userPatterns, readPattern),
    ) &&
    take(
      'modelFamilies',
      raw.modelFamilies === undefined
        ? UNSURE
        : readList(raw.modelFamilies, (f) =>
            typeof f === 'string' && FAMILIES.has(f) ? f : UNSURE,
          ),
    ) &&
    take(
      'percent',
      typeof raw.percent === 'number' && raw.percent >= 0 && raw.percent <= 100
        ? raw.percent
        : UNSURE,
    );
  // Every key read, so none was unknown.
  return ok && read === keys ? (when as WhenConfig) : UNSURE;
}

function readServer(
  raw: Record<string, unknown>,
  httpsUrl: (value: unknown, query: boolean) => boolean,
): Server | Unsure {
  const keys = Object.keys(raw);
  if (keys.length === 1 && isObject(raw.intune)) return readIntune(raw.intune);
  if (keys.length === 1 && isObject(raw.jamf)) return readJamf(raw.jamf, httpsUrl);
  if (keys.length === 1 && isObject(raw.fleet)) return readFleet(raw.fleet, httpsUrl);
  if (keys.length === 2 && typeof raw.version === 'string' && raw.baseUrl !== undefined) {
    if (!(VERSIONS as readonly string[]).includes(raw.version)) return UNSURE;
    if (!httpsUrl(raw.baseUrl, true)) return UNSURE;
    return {
      preset: 'custom',
      version: raw.version as Server['version'],
      baseUrl: raw.baseUrl as string,
    };
  }
  return UNSURE;
}

function readIntune(intune: Record<string, unknown>): Server | Unsure {
  const { cloud = DEFAULTS.cloud, tenantId } = intune;
  if (!onlyKeys(intune, INTUNE_KEYS) || typeof cloud !== 'string' || !CLOUDS.has(cloud)) {
    return UNSURE;
  }
  if (typeof tenantId !== 'string' || !GUID.test(tenantId)) return UNSURE;
  return { preset: 'intune', ...intuneServer(cloud as IntuneCloud, tenantId) };
}

function readJamf(
  jamf: Record<string, unknown>,
  httpsUrl: (value: unknown, query: boolean) => boolean,
): Server | Unsure {
  const { url, enrollment = DEFAULTS.jamfEnrollment } = jamf;
  if (!onlyKeys(jamf, JAMF_KEYS) || (enrollment !== 'user' && enrollment !== 'device')) {
    return UNSURE;
  }
  if (!httpsUrl(url, false) || hasPresetPath(url as string, JAMF_PATHS.user)) return UNSURE;
  return { preset: 'jamf', ...jamfServer(url as string, enrollment as JamfEnrollment) };
}

function readFleet(
  fleet: Record<string, unknown>,
  httpsUrl: (value: unknown, query: boolean) => boolean,
): Server | Unsure {
  const { url } = fleet;
  if (!onlyKeys(fleet, FLEET_KEYS) || !httpsUrl(url, false)) return UNSURE;
  if (hasPresetPath(url as string, FLEET_PATH)) return UNSURE;
  return { preset: 'fleet', ...fleetServer(url as string) };
}

function readReject(raw: unknown): Action | Unsure {
  if (!isObject(raw) || !onlyKeys(raw, REJECT_KEYS) || typeof raw.message !== 'string') {
    return UNSURE;
  }
  const message = raw.message.trim();
  const { description } = raw;
  if (message.length === 0 || message.length > MAX_MESSAGE_LENGTH) return UNSURE;
  if (
    description !== undefined &&
    (typeof description !== 'string' || description.length > MAX_MESSAGE_LENGTH)
  ) {
    return UNSURE;
  }
  return description === undefined
    ? { kind: 'reject', message, description: undefined }
    : { kind: 'reject', message, description };
}

function readRedirect(
  raw: unknown,
  httpsUrl: (value: unknown, query: boolean) => boolean,
): Action | Unsure {
  if (!isObject(raw) || !onlyKeys(raw, REDIRECT_KEYS) || !httpsUrl(raw.url, true)) return UNSURE;
  const status = raw.status ?? DEFAULTS.redirectStatus;
  if (status !== 302 && status !== 307) return UNSURE;
  return { kind: 'redirect', url: raw.url as string, status };
}
