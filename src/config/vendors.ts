// Which MDM a BaseURL belongs to, by the shapes vendors document or publish (docs/protocol.md
// section 7), and what is wrong with one: a Version its path does not serve, a known wrong host.
// Read by `validate` (offline), `verify` and the watcher alike.
import type { Version } from '../protocol.js';
import { FLEET_PATH, INTUNE_HOSTS, INTUNE_PATH, JAMF_PATHS } from './presets.js';

export interface VendorShape {
  readonly vendor: string;
  /** What the path enrolls into: User Enrollment, Device Enrollment, or either. */
  readonly enrollment: 'User Enrollment' | 'Device Enrollment' | 'either';
  /** documented: by the vendor; observed: in public files and threads only. */
  readonly mark: 'documented' | 'observed';
  /** The host, when the vendor's is fixed; any host otherwise (recognised by the path). */
  readonly host?: RegExp;
  readonly path: RegExp;
}

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (path: string) => new RegExp(`^${literal(path)}/?$`);
const intuneHost = new RegExp(`^(${Object.values(INTUNE_HOSTS).map(literal).join('|')})$`);

/** In order: the first whose host and path match names the vendor. */
export const VENDOR_SHAPES: readonly VendorShape[] = [
  {
    vendor: 'Microsoft Intune',
    enrollment: 'User Enrollment',
    mark: 'documented',
    host: intuneHost,
    path: exactly(INTUNE_PATH),
  },
  {
    vendor: 'Jamf Pro',
    enrollment: 'User Enrollment',
    mark: 'documented',
    path: exactly(JAMF_PATHS.user),
  },
  {
    vendor: 'Jamf Pro',
    enrollment: 'Device Enrollment',
    mark: 'observed',
    path: exactly(JAMF_PATHS.device),
  },
  {
    vendor: 'Fleet',
    enrollment: 'User Enrollment',
    mark: 'documented',
    path: new RegExp(`^${literal(FLEET_PATH)}(/[^/]+)?/?$`),
  },
  {
    vendor: 'JumpCloud',
    enrollment: 'User Enrollment',
    mark: 'observed',
    host: /^apple\.mdm\.jumpcloud\.com$/,
    path: /^\/user-enroll\/?$/,
  },
  {
    vendor: 'Hexnode',
    enrollment: 'either',
    mark: 'observed',
    host: /\.hexnodemdm\.com$/,
    path: /^\/userenroll\/?$/,
  },
  {
    vendor: 'Sophos Central',
    enrollment: 'User Enrollment',
    mark: 'observed',
    host: /\.hydra\.sophos\.com$/,
    path: /^\/client-api\/auto-enrollment\/ios-user-enroll-byod\/[^/]+\/?$/,
  },
  {
    vendor: 'ManageEngine MDM',
    enrollment: 'User Enrollment',
    mark: 'documented',
    path: /^\/mdm\/client\/v1\/enroll\/?$/,
  },
  {
    vendor: 'Mosyle',
    enrollment: 'User Enrollment',
    mark: 'observed',
    host: /\.mosyle\.io$/,
    path: /^\/api\/v2enrollment\/enroll\/byod\/?$/,
  },
  {
    vendor: 'Scalefusion',
    enrollment: 'User Enrollment',
    mark: 'observed',
    host: /(^|\.)scalefusion\.com$/,
    path: /^\/apple\/enroll\/account_driven_enrollment\/?$/,
  },
  {
    vendor: 'Workspace ONE UEM',
    enrollment: 'User Enrollment',
    mark: 'observed',
    path: /^\/DeviceManagement\/Enrollment\/AccountDrivenUserEnroll\/?$/i,
  },
  {
    vendor: 'Ivanti Neurons for MDM',
    enrollment: 'either',
    mark: 'documented',
    path: /^\/c\/i\/reg\/userenroll\.mobileconfig$/,
  },
];

/** Hosts no Apple enrollment runs on, though files in the wild name them (docs/protocol.md section 7). */
const WRONG_HOSTS: readonly { readonly host: RegExp; readonly what: string }[] = [
  {
    host: /^enterpriseenrollment(-s)?\./,
    what: "Windows' enrollment host (EnterpriseEnrollment), not Apple's",
  },
  {
    host: /^appleconfigurator2\.manage\.microsoft\.com$/,
    what: "Intune's host for Apple Configurator profiles, not account-driven enrollment",
  },
];

/** The vendor whose BaseURL shape `url` has, or undefined. */
export function vendorOf(url: URL): VendorShape | undefined {
  return VENDOR_SHAPES.find(
    (shape) => (shape.host?.test(url.hostname) ?? true) && shape.path.test(url.pathname),
  );
}

/** "Jamf Pro (its Device Enrollment path, observed in public files)". */
export function describeVendor(shape: VendorShape): string {
  const kind =
    shape.enrollment === 'either' ? 'its enrollment path' : `its ${shape.enrollment} path`;
  const mark =
    shape.mark === 'documented' ? 'documented by the vendor' : 'observed in public files';
  return `${shape.vendor} (${kind}, ${mark})`;
}

export interface BaseUrlFinding {
  readonly verdict: 'warn' | 'fail';
  readonly id: 'baseurl.wrong-host' | 'baseurl.version' | 'baseurl.same-host';
  readonly detail: string;
  readonly fix: string;
}

const VERSION_OF = { 'User Enrollment': 'mdm-byod', 'Device Enrollment': 'mdm-adde' } as const;

/**
 * What is wrong with a BaseURL given with `version`: a known wrong host (fail: no device can
 * enroll there), a Version its vendor's path does not serve, the discovery host itself.
 */
export function baseUrlFindings(
  url: URL,
  version: Version | string,
  discoveryHost?: string,
): BaseUrlFinding[] {
  const found: BaseUrlFinding[] = [];
  const wrong = WRONG_HOSTS.find((w) => w.host.test(url.hostname));
  if (wrong) {
    found.push({
      verdict: 'fail',
      id: 'baseurl.wrong-host',
      detail: `${url.hostname} is ${wrong.what}`,
      fix: `publish the BaseURL your MDM console shows for Apple account-driven enrollment (Intune: https://${INTUNE_HOSTS.commercial}${INTUNE_PATH}?aadTenantId=<your tenant ID>)`,
    });
  }
  const shape = vendorOf(url);
  if (shape && shape.enrollment !== 'either' && VERSION_OF[shape.enrollment] !== version) {
    const serves = VERSION_OF[shape.enrollment];
    found.push({
      verdict: 'warn',
      id: 'baseurl.version',
      detail: `"${version}" with ${describeVendor(shape)}, which serves ${shape.enrollment} ("${serves}")`,
      fix:
        shape.vendor === 'Jamf Pro'
          ? `answer "${serves}" here, or use Jamf's ${serves === 'mdm-byod' ? JAMF_PATHS.device : JAMF_PATHS.user} path for "${version}"`
          : `answer "${serves}" for this BaseURL, or use the URL ${shape.vendor} gives for the other enrollment`,
    });
  }
  if (discoveryHost !== undefined && url.hostname === discoveryHost.toLowerCase()) {
    found.push({
      verdict: 'warn',
      id: 'baseurl.same-host',
      detail: `the BaseURL's host is the discovery host ${discoveryHost}, usually the website itself`,
      fix: 'publish the BaseURL your MDM console shows (unless this host runs your MDM, as an Ivanti EPMM core does)',
    });
  }
  return found;
}
