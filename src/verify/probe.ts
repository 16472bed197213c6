// The BaseURL probe: an unsigned POST, as far as a check without a real device can go (docs/protocol.md section 3).
import { type Check, checker } from './checks.js';
import { header } from './evaluate.js';
import { type Client, describeError, fetchAnswer } from './fetch.js';
import { PrivateAddressError } from './net.js';

/** A property list with no device signature: enough to see how the enrollment endpoint reacts. */
const UNSIGNED_PLIST =
  '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Probe</key><string>mdm-discovery verify</string></dict></plist>\n';

const OAUTH2_PARAMS = ['authorization-url', 'token-url', 'redirect-url', 'client-id', 'scope'];

export async function probeBaseUrl(client: Client, baseUrl: string): Promise<Check> {
  const probe = checker('baseurl', 'baseurl.probe', 'BaseURL');
  // Every detail names the BaseURL first.
  const pass = (detail: string) => probe.pass(`${baseUrl}: ${detail}`);
  const info = (detail: string) => probe.info(`${baseUrl}: ${detail}`);
  const warn = (detail: string, fix: string) => probe.warn(`${baseUrl}: ${detail}`, fix);
  const fail = (detail: string, fix: string) => probe.fail(`${baseUrl}: ${detail}`, fix);
  let answer: Awaited<ReturnType<typeof fetchAnswer>>;
  try {
    answer = await fetchAnswer(client, new URL(baseUrl), 'POST', UNSIGNED_PLIST);
  } catch (error) {
    if (error instanceof PrivateAddressError) {
      return fail(
        `not probed: ${error.message}`,
        'devices on the internet cannot reach a private address; publish the BaseURL your MDM console shows',
      );
    }
    return fail(
      `unreachable (${describeError(error)})`,
      'check the BaseURL your MDM console shows',
    );
  }
  const auth = header(answer, 'www-authenticate') ?? '';
  const type = header(answer, 'content-type') ?? '';
  if (answer.status === 401) {
    const method = /method="([^"]+)"/.exec(auth)?.[1];
    if (/^Bearer\b/i.test(auth) && method === 'apple-as-web' && /\burl="https:\/\//.test(auth)) {
      return pass(`401 Bearer method="apple-as-web": an enrollment endpoint`);
    }
    if (/^Bearer\b/i.test(auth) && method === 'apple-oauth2') {
      const missing = OAUTH2_PARAMS.filter((p) => !new RegExp(`\\b${p}="`).test(auth));
      return missing.length === 0
        ? pass('401 Bearer method="apple-oauth2": an enrollment endpoint')
        : warn(
            `401 apple-oauth2 without ${missing.join(', ')}`,
            'the MDM must send every apple-oauth2 parameter',
          );
    }
    return warn(
      `401 without the Bearer method a device expects (${auth || 'no WWW-Authenticate'})`,
      'check the BaseURL against your MDM console',
    );
  }
  if (answer.status === 400 || answer.status === 403) {
    return info(`${answer.status}: reachable, inconclusive (a real device sends a signed request)`);
  }
  if (type.toLowerCase().startsWith('text/html')) {
    return fail(
      `${answer.status} with an HTML page: most likely not an enrollment endpoint`,
      'check the BaseURL against your MDM console',
    );
  }
  if (answer.status === 404 || answer.status === 405) {
    return fail(
      `${answer.status}: most likely not the enrollment endpoint`,
      'check the BaseURL against your MDM console',
    );
  }
  return warn(
    `${answer.status}: an enrollment endpoint answers 401 to an unsigned request`,
    'check the BaseURL against your MDM console',
  );
}
