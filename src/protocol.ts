// The protocol's facts, defined once: the path a device asks, its model families, the two versions.

/** Where a device asks (docs/protocol.md section 1). */
export const WELL_KNOWN_PATH = '/.well-known/com.apple.remotemanagement';

/** Apple's documented model-family values, in Apple's order (docs/protocol.md section 1). */
export const MODEL_FAMILIES = [
  'AppleTV',
  'iPad',
  'iPhone',
  'Mac',
  'RealityDevice',
  'Watch',
] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** User Enrollment (personal devices) and Device Enrollment (docs/protocol.md section 2). */
export const VERSIONS = ['mdm-byod', 'mdm-adde'] as const;
export type Version = (typeof VERSIONS)[number];

/** The `code` of a deliberate refusal, a 403 the device understands (docs/protocol.md section 2). */
export const WELL_KNOWN_FAILED = 'com.apple.well-known.failed';

/**
 * The TLS 1.2 suites Apple's notice leaves: ECDHE key exchange with AES-GCM (and the Extended
 * Master Secret extension, RFC 7627). TLS 1.3 suites all qualify. docs/protocol.md section 6, TLS;
 * https://support.apple.com/en-us/126655
 */
export const APPLE_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
] as const;

/**
 * Apple's reserved account domains: every Apple Business organisation's `<name>.appleaccount.com`,
 * and Apple Business Essentials' `<name>.appleid.com`. Apple answers discovery for their accounts;
 * no organisation can (docs/protocol.md section 7; https://support.apple.com/guide/business/axm3e5b43d40).
 */
export const APPLE_RESERVED_DOMAINS = ['appleaccount.com', 'appleid.com'] as const;

/** The reserved domain a name (or `*.name`) is, or is under; undefined for any other name. */
export function appleReservedDomain(name: string): string | undefined {
  const bare = name.toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
  return APPLE_RESERVED_DOMAINS.find((d) => bare === d || bare.endsWith(`.${d}`));
}

/** Why a reserved domain cannot be served, for `validate`, `init` and `verify` alike. */
export function appleReservedMessage(name: string, reserved: string): string {
  return `"${name}" is under ${reserved}, a domain Apple reserves for Apple Business accounts: Apple answers discovery for those accounts itself, and no organisation's server is asked. Leave it out; to send those devices to your MDM, assign it in Apple Business`;
}

/**
 * What a 404 does on purpose, the `appleBusiness` action: Apple Business has its own MDM and a
 * default MDM server per device type (docs/protocol.md section 7). Said by explain and the status page.
 */
export const APPLE_BUSINESS_DEFERRAL =
  'defers to Apple Business: devices on iOS 18.2 / macOS 15.2 and later go to the MDM server Apple Business assigns by default to their device type (its own built-in MDM among them); earlier systems show an error';
