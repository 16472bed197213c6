// The config file's shape: one zod schema; the types and config/schema.json come from it.
import { z } from 'zod';
import { checkDomain, checkHttpsUrl, GUID, type UrlRules } from './checks.js';
import {
  FLEET_PATH,
  fleetServer,
  INTUNE_HOSTS,
  type IntuneCloud,
  intuneServer,
  JAMF_PATHS,
  jamfServer,
} from './presets.js';
import { nearest, quoteList } from './suggest.js';

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
    .default('commercial')
    .meta({
      description:
        'commercial (manage.microsoft.com, also GCC), usgov (GCC High and DoD, manage.microsoft.us), china (21Vianet, manage.microsoft.cn).',
    }),
  tenantId,
}).meta({ description: 'Microsoft Intune: always mdm-byod (account-driven User Enrollment).' });

/** A vendor server's address; the preset appends the enrollment path, so a pasted one is refused. */
function serverAddress(product: string, example: string, path: string) {
  const marker = path.split('/').slice(0, 2).join('/');
  return httpsUrl({ query: false })
    .refine((url) => !new URL(url).pathname.includes(marker), {
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
    .default('user')
    .meta({
      description: 'user: mdm-byod (User Enrollment); device: mdm-adde (Device Enrollment).',
    }),
}).meta({ description: 'Jamf Pro.' });

const fleet = strictObject({
  url: serverAddress('Fleet server', 'https://fleet.example.com', FLEET_PATH),
}).meta({ description: 'Fleet: mdm-byod.' });

const version = z.enum(['mdm-byod', 'mdm-adde']).meta({
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

export const tenantSchema = strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
      error:
        'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (it labels logs and metrics)',
    })
    .meta({ description: 'A short unique name; it appears in logs and metrics.' }),
  domains: z
    .array(domain)
    .min(1, { error: "lists no domain; add the domain of your users' accounts" }),
  enroll,
});

export const configFileSchema = strictObject({
  $schema: z
    .string()
    .optional()
    .meta({ description: 'Path or URL of this JSON Schema, for editors.' }),
  tenants: z.array(tenantSchema).meta({ description: 'The organisations served, one entry each.' }),
}).meta({
  title: 'mdm-discovery configuration',
  description:
    'Which answer Apple devices get at https://<domain>/.well-known/com.apple.remotemanagement. See README.md.',
});

/** The file's own keys, with tenants left to tenantSchema one by one (so one bad tenant hides no other error). */
export const fileShapeSchema = configFileSchema.extend({ tenants: z.array(z.unknown()) });

export type ConfigFileInput = z.input<typeof configFileSchema>;
export type ConfigFile = z.output<typeof configFileSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type EnrollConfig = TenantConfig['enroll'];
