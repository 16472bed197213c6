// Vendor presets: the exact BaseURL each MDM publishes (docs/protocol.md section 4).
import type { AvailableServer } from '../discovery/response.js';

/**
 * Intune's enrollment hosts per cloud. Intune documents only mdm-byod (account-driven User Enrollment).
 * https://learn.microsoft.com/en-us/mem/intune/enrollment/apple-account-driven-user-enrollment
 */
export const INTUNE_HOSTS = {
  commercial: 'manage.microsoft.com',
  usgov: 'manage.microsoft.us',
  china: 'manage.microsoft.cn',
} as const;
export type IntuneCloud = keyof typeof INTUNE_HOSTS;

/**
 * Where each Intune cloud's Entra ID answers sign-in and OpenID Connect metadata
 * (docs/protocol.md sections 6 and 7; Microsoft documents all three).
 */
export const SIGN_IN_HOSTS: Record<IntuneCloud, string> = {
  commercial: 'login.microsoftonline.com',
  usgov: 'login.microsoftonline.us',
  china: 'login.partner.microsoftonline.cn',
};

/** The Intune cloud of a BaseURL's host, or undefined for any other host. */
export function intuneCloudOf(host: string): IntuneCloud | undefined {
  return (Object.keys(INTUNE_HOSTS) as IntuneCloud[]).find((c) => INTUNE_HOSTS[c] === host);
}
export const INTUNE_PATH = '/EnrollmentServer/PostReportDeviceInfoForUEV2';

export const JAMF_PATHS = {
  user: '/servicediscoveryenrollment/v1/userenroll',
  // Community-reported; Jamf documents the user path.
  device: '/servicediscoveryenrollment/v1/deviceenroll',
} as const;
export type JamfEnrollment = keyof typeof JAMF_PATHS;

export const FLEET_PATH = '/api/mdm/apple/account_driven_enroll';

export function intuneServer(cloud: IntuneCloud, tenantId: string): AvailableServer {
  return {
    version: 'mdm-byod',
    baseUrl: `https://${INTUNE_HOSTS[cloud]}${INTUNE_PATH}?aadTenantId=${tenantId}`,
  };
}

export function jamfServer(url: string, enrollment: JamfEnrollment): AvailableServer {
  return {
    version: enrollment === 'device' ? 'mdm-adde' : 'mdm-byod',
    baseUrl: `${withoutTrailingSlash(url)}${JAMF_PATHS[enrollment]}`,
  };
}

export function fleetServer(url: string): AvailableServer {
  return { version: 'mdm-byod', baseUrl: `${withoutTrailingSlash(url)}${FLEET_PATH}` };
}

/**
 * Whether a vendor address already holds the preset's path (its first segment), as when the
 * whole enrollment URL is pasted: the preset would add it a second time.
 */
export function hasPresetPath(url: string, path: string): boolean {
  return new URL(url).pathname.includes(path.split('/').slice(0, 2).join('/'));
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
