// The config file's shape: one zod schema; the types and config/schema.json come from it.
import { z } from 'zod';
import { MODEL_FAMILIES } from '../discovery/query.js';
import { VERSIONS } from '../protocol.js';
import { checkDomain, checkHttpsUrl, GUID, type UrlRules } from './checks.js';
import {
  FLEET_PATH,
  fleetServer,
  hasPresetPath,
  INTUNE_HOSTS,
  type IntuneCloud,
  intuneServer,
  JAMF_PATHS,
  jamfServer,
} from './presets.js';
import { nearest, quoteList } from './suggest.js';

/** The longest `message` or `description` of a refusal. */
export const MAX_MESSAGE_LENGTH = 1000;

/** What a key left out means. */
export const DEFAULTS = {
  cloud: 'commercial',
  jamfEnrollment: 'user',
  redirectStatus: 302,
} as const;

/** A strict object whose unknown-key error names the nearest known key. */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const near = nearest(key, known);
          return near === undefined
            ? `unknown key "${key}"; allowed keys are ${quoteList(known)}`
            : `unknown key "${key}"; did you mean "${near}"?`;
        })
        .join('; ');
    },
  });
}

function checked(check: (raw: string) => ReturnType<typeof checkDomain>) {
  return z.string().transform((raw, ctx) => {
    const result = check(raw);
    if ('error' in result) {
      ctx.addIssue({ code: 'custom', message: result.error, input: raw });
      return z.NEVER;
    }
    return result.value;
  });
}

const httpsUrl = (rules: UrlRules) => checked((raw) => checkHttpsUrl(raw, rules));

const domain = checked(checkDomain).meta({
  description:
    'A domain of your users\' accounts (joe@contoso.com -> "contoso.com"), or "*.contoso.com" for every name below it.',
  examples: ['contoso.com', '*.contoso.com'],
});

const tenantId = z
  .string()
  .refine((value) => GUID.test(value), {
    error: (issue) =>
      `"${String(issue.input)}" is not a GUID; use your Microsoft Entra tenant ID (Entra admin center > Overview > Tenant ID), like 6f0c8a5e-6f2b-4c61-9a0e-2b1f5c3d4e7a`,
  })
  .meta({ description: 'Microsoft Entra tenant ID (a GUID).' });

const intune = strictObject({
  cloud: z
    .enum(Object.keys(INTUNE_HOSTS) as [IntuneCloud, ...IntuneCloud[]])
    .default(DEFAULTS.cloud)
    .meta({
      description:
        'commercial (manage.microsoft.com, also GCC), usgov (GCC High and DoD, manage.microsoft.us), china (21Vianet, manage.microsoft.cn).',
    }),
  tenantId,
}).meta({ description: 'Microsoft Intune: always mdm-byod (account-driven User Enrollment).' });

/** A vendor server's address; the preset appends the enrollment path, so a pasted one is refused. */
function serverAddress(product: string, example: string, path: string) {
  return httpsUrl({ query: false })
    .refine((url) => !hasPresetPath(url, path), {
      error: `give only the ${product} address (${example}); the preset adds ${path} itself`,
    })
    .meta({ description: `The ${product} address, e.g. ${example}.` });
}

const jamf = strictObject({
  url: serverAddress(
    'Jamf Pro',
    'https://example.jamfcloud.com',
    '/servicediscoveryenrollment/v1/…',
  ),
  enrollment: z
    .enum(Object.keys(JAMF_PATHS) as ['user', 'device'])
    .default(DEFAULTS.jamfEnrollment)
    .meta({
      description: 'user: mdm-byod (User Enrollment); device: mdm-adde (Device Enrollment).',
    }),
}).meta({ description: 'Jamf Pro.' });

const fleet = strictObject({
  url: serverAddress('Fleet server', 'https://fleet.example.com', FLEET_PATH),
}).meta({ description: 'Fleet: mdm-byod.' });

const version = z.enum(VERSIONS).meta({
  description:
    'mdm-byod: account-driven User Enrollment (personal devices). mdm-adde: account-driven Device Enrollment (organisation-owned).',
});

const ENROLL_KINDS = ['intune', 'jamf', 'fleet', 'version + baseUrl'] as const;

const enroll = strictObject({
  intune: intune.optional(),
  jamf: jamf.optional(),
  fleet: fleet.optional(),
  version: version.optional(),
  baseUrl: httpsUrl({ query: true })
    .optional()
    .meta({ description: 'The BaseURL your MDM console shows (absolute https).' }),
})
  .superRefine((value, ctx) => {
    const given = [
      value.intune && 'intune',
      value.jamf && 'jamf',
      value.fleet && 'fleet',
      (value.version || value.baseUrl) && 'version + baseUrl',
    ].filter(Boolean);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        params: { kind: 'enroll-choice' },
        message:
          given.length === 0
            ? `says nowhere to enroll; give one of ${ENROLL_KINDS.join(', ')}`
            : `gives ${given.join(' and ')}; give exactly one of ${ENROLL_KINDS.join(', ')}`,
      });
    } else if (given[0] === 'version + baseUrl' && (!value.version || !value.baseUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: [value.version ? 'baseUrl' : 'version'],
        message: value.version
          ? 'is required with "version": the BaseURL your MDM console shows'
          : 'is required with "baseUrl": "mdm-byod" (User Enrollment) or "mdm-adde" (Device Enrollment)',
      });
    }
  })
  .transform((value) => {
    if (value.intune)
      return {
        preset: 'intune' as const,
        ...intuneServer(value.intune.cloud, value.intune.tenantId),
      };
    if (value.jamf)
      return { preset: 'jamf' as const, ...jamfServer(value.jamf.url, value.jamf.enrollment) };
    if (value.fleet) return { preset: 'fleet' as const, ...fleetServer(value.fleet.url) };
    // superRefine guarantees both are set here.
    return {
      preset: 'custom' as const,
      version: value.version ?? 'mdm-byod',
      baseUrl: value.baseUrl ?? '',
    };
  })
  .meta({
    description:
      'Where devices enroll: exactly one of intune, jamf, fleet, or version + baseUrl (any other MDM).',
  });

/** Tenant and rule names. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const name = z.string().regex(NAME, {
  error:
    'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (it labels logs and metrics)',
});

const reject = strictObject({
  message: z
    .string()
    .trim()
    .min(1, { error: 'is empty; write what the person at the device should read' })
    .max(MAX_MESSAGE_LENGTH)
    .meta({
      description: 'Shown to the person on the device (iOS 17.5+, macOS 14.5+, visionOS 1.2+).',
    }),
  description: z
    .string()
    .max(MAX_MESSAGE_LENGTH)
    .optional()
    .meta({ description: "For the device's logs only; never shown to the person." }),
}).meta({ description: 'Answer 403 com.apple.well-known.failed: a deliberate "no".' });

const redirect = strictObject({
  url: httpsUrl({ query: true }).meta({
    description:
      "Absolute https target. The request's user-identifier and model-family are added to its query, because the device does not re-send them.",
  }),
  status: z
    .union([z.literal(302), z.literal(307)], {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not allowed; use 302 or 307 (a permanent redirect would be cached by clients)`,
    })
    .default(DEFAULTS.redirectStatus),
}).meta({ description: 'Answer a redirect that keeps user-identifier and model-family.' });

const notFound = z.literal(true, { error: 'must be true' }).meta({
  description:
    'Answer 404, so that devices on iOS 18.2 / macOS 15.2 and later fall back to the discovery URL registered in Apple Business Manager.',
});

const appleBusiness = z.literal(true, { error: 'must be true' }).meta({
  description:
    "Defer to Apple Business, on purpose: answer 404 (the same bytes as notFound), so that devices on iOS 18.2 / macOS 15.2 and later go to the MDM server Apple Business assigns by default to their device type, Apple Business's own built-in MDM among them. Shown as a choice by explain, the status page, the access log and metrics.",
});

/** The actions' keys, in one place: the schema and the fast loader (fast-tenant.ts) read it. */
export const ACTIONS = ['enroll', 'reject', 'notFound', 'appleBusiness', 'redirect'] as const;

/** The five actions, each optional; actionChoice() requires exactly one. */
const actionShape = {
  enroll: enroll.optional(),
  reject: reject.optional(),
  notFound: notFound.optional(),
  appleBusiness: appleBusiness.optional(),
  redirect: redirect.optional(),
};

type ActionInput = {
  enroll?: z.output<typeof enroll> | undefined;
  reject?: z.output<typeof reject> | undefined;
  notFound?: true | undefined;
  appleBusiness?: true | undefined;
  redirect?: z.output<typeof redirect> | undefined;
};

function actionChoice(what: string) {
  return (value: ActionInput, ctx: z.RefinementCtx) => {
    const given = ACTIONS.filter((key) => value[key] !== undefined);
    if (given.length === 1) return;
    ctx.addIssue({
      code: 'custom',
      params: { kind: 'action-choice' },
      message:
        given.length === 0
          ? `${what} says nothing to do; give one of ${ACTIONS.join(', ')}`
          : `gives ${given.join(' and ')}; give exactly one of ${ACTIONS.join(', ')}`,
    });
  };
}

export type Action =
  | { readonly kind: 'enroll'; readonly server: z.output<typeof enroll> }
  | { readonly kind: 'reject'; readonly message: string; readonly description: string | undefined }
  | { readonly kind: 'notFound' }
  | { readonly kind: 'appleBusiness' }
  | { readonly kind: 'redirect'; readonly url: string; readonly status: 302 | 307 };

function toAction(value: ActionInput): Action {
  if (value.reject)
    return { kind: 'reject', ...value.reject, description: value.reject.description };
  if (value.notFound) return { kind: 'notFound' };
  if (value.appleBusiness) return { kind: 'appleBusiness' };
  if (value.redirect)
    return {
      kind: 'redirect',
      url: value.redirect.url,
      status: value.redirect.status as 302 | 307,
    };
  // actionChoice guarantees that enroll is set here.
  return { kind: 'enroll', server: value.enroll as z.output<typeof enroll> };
}

/** Apple's documented values, plus "absent" (no model-family sent) and "unknown" (any other value). */
export const FAMILY_CHOICES = [...MODEL_FAMILIES, 'absent', 'unknown'] as const;

/** What is wrong with a configured user-identifier, or undefined. */
export function identifierError(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed !== raw) return `"${raw}" has surrounding whitespace; write "${trimmed}"`;
  if (/\s/.test(raw) || !raw.includes('@') || raw.endsWith('@')) {
    return `"${raw}" is not a user-identifier like joe@contoso.com`;
  }
  return undefined;
}

/** What is wrong with a user pattern, or undefined. */
export function patternError(raw: string): string | undefined {
  return raw.length === 0 || /\s/.test(raw)
    ? `"${raw}" must be a non-empty pattern without whitespace, like *@contoso.com`
    : undefined;
}

function lowerCased(error: (raw: string) => string | undefined) {
  return z.string().transform((raw, ctx) => {
    const message = error(raw);
    if (message === undefined) return raw.toLowerCase();
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
}

const identifier = lowerCased(identifierError);
const pattern = lowerCased(patternError);

const CONDITIONS = [
  'users',
  'usersFile',
  'userDomains',
  'userPatterns',
  'modelFamilies',
  'percent',
] as const;

const when = strictObject({
  users: z
    .array(identifier)
    .min(1)
    .optional()
    .meta({ description: 'user-identifiers, compared case-insensitively.' }),
  usersFile: z.string().min(1).optional().meta({
    description:
      'A text file (relative to this config file) of user-identifiers, one per line; # starts a comment. Listed in users or in the file counts as listed.',
  }),
  userDomains: z.array(domain).min(1).optional().meta({
    description:
      'The domain after the last @ of user-identifier: exact, or *.domain for names below it.',
  }),
  userPatterns: z.array(pattern).min(1).optional().meta({
    description:
      'Patterns where * stands for any run of characters (no regular expressions), case-insensitive.',
  }),
  modelFamilies: z.array(z.enum(FAMILY_CHOICES)).min(1).optional().meta({
    description:
      'AppleTV, iPad, iPhone, Mac, RealityDevice, Watch; "absent" when none is sent; "unknown" for any other value.',
  }),
  percent: z.number().min(0).max(100).optional().meta({
    description:
      'A stable share of people: a hash of the lower-cased user-identifier and the rule name picks the same answer for a person every time.',
  }),
})
  .refine((value) => CONDITIONS.some((key) => value[key] !== undefined), {
    params: { kind: 'when-empty' },
    error: `is empty; give at least one of ${CONDITIONS.join(', ')} (to catch everything, make it the tenant's default action)`,
  })
  .meta({
    description:
      'Conditions that must all hold. A request without a usable user-identifier matches no user condition.',
  });

const ruleObject = strictObject({
  name: name.meta({
    description: 'Unique within the tenant; it appears in logs and seeds percent.',
  }),
  when,
  ...actionShape,
});

const rule = ruleObject
  .superRefine(actionChoice('the rule'))
  .transform((value) => ({ name: value.name, when: value.when, action: toAction(value) }));

/** How the watcher asks a tenant's domains (docs/watch.md); every key optional. */
const watchShape = strictObject({
  skip: z.boolean().optional().meta({ description: "Do not watch this tenant's domains." }),
  families: z.array(z.enum(MODEL_FAMILIES)).min(1).optional().meta({
    description: 'The model families to ask (default: those of the rules, plus iPhone, iPad, Mac).',
  }),
  user: identifier.optional().meta({
    description:
      'The user-identifier to ask as (default: probe@<domain>, and a user derived from each rule).',
  }),
}).meta({
  description: 'How the watcher (WATCH_INTERVAL, mdm-discovery watch) asks these domains.',
});

/** Where `mdm-discovery sync` took a tenant from, and when (docs/sync.md); written by sync. */
const syncShape = strictObject({
  from: z
    .string()
    .min(1)
    .max(200)
    .meta({ description: 'The source: csv:<file>, cipp:<url>, graph:<cloud>.' }),
  at: z.iso.datetime().meta({ description: 'When sync last wrote this tenant (ISO 8601, UTC).' }),
  customer: z
    .string()
    .min(1)
    .max(200)
    .meta({ description: "The customer's id in the source (its Entra tenant ID)." }),
}).meta({
  description:
    'Written by mdm-discovery sync: where this tenant came from. Not for hand-written tenants.',
});

const tenantObject = strictObject({
  name: name.meta({ description: 'A short unique name; it appears in logs and metrics.' }),
  domains: z
    .array(domain)
    .min(1, { error: "lists no domain; add the domain of your users' accounts" }),
  ...actionShape,
  rules: z.array(rule).optional().meta({
    description:
      "Checked in order; the first whose when holds decides, else the tenant's own action.",
  }),
  watch: watchShape.optional(),
  sync: syncShape.optional(),
});

export const tenantSchema = tenantObject
  .superRefine(actionChoice('the tenant'))
  .superRefine((value, ctx) => {
    const seen = new Map<string, number>();
    value.rules?.forEach((r, i) => {
      const first = seen.get(r.name);
      if (first === undefined) seen.set(r.name, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `"${r.name}" is also the name of rules[${first}]; rule names must be unique in a tenant`,
        });
    });
  })
  .transform((value) => ({
    name: value.name,
    domains: value.domains,
    action: toAction(value),
    rules: value.rules ?? [],
    watch: value.watch ?? {},
    ...(value.sync === undefined ? {} : { sync: value.sync }),
  }));

export const configFileSchema = strictObject({
  $schema: z
    .string()
    .optional()
    .meta({ description: 'Path or URL of this JSON Schema, for editors.' }),
  serviceHosts: z.array(domain).optional().meta({
    description:
      "This service's own host names (for a provider whose customers' domains redirect to one central host): for these the tenant is chosen by the domain of user-identifier instead of the Host.",
  }),
  tenants: z.array(tenantSchema).meta({ description: 'The organisations served, one entry each.' }),
}).meta({
  title: 'mdm-discovery configuration',
  description:
    'Which answer Apple devices get at https://<domain>/.well-known/com.apple.remotemanagement. See README.md.',
});

/** The file's own keys, with tenants left to tenantSchema one by one (so one bad tenant hides no other error). */
export const fileShapeSchema = configFileSchema.extend({ tenants: z.array(z.unknown()) });

export type ConfigFileInput = z.input<typeof configFileSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type RuleConfig = TenantConfig['rules'][number];
export type WhenConfig = RuleConfig['when'];
export type Server = z.output<typeof enroll>;

/**
 * The keys each object of a tenant allows, read from the schema itself: the loader's fast path
 * (fast-tenant.ts) checks keys against these, so that it cannot drift from what zod accepts.
 */
export const SCHEMA_KEYS = {
  tenant: Object.keys(tenantObject.shape),
  rule: Object.keys(ruleObject.shape),
  intune: Object.keys(intune.shape),
  jamf: Object.keys(jamf.shape),
  fleet: Object.keys(fleet.shape),
  reject: Object.keys(reject.shape),
  redirect: Object.keys(redirect.shape),
} as const;
