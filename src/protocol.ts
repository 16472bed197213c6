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
