// Judging a TLS handshake as Apple devices will: trust, host name, version, cipher, expiry, chain.
import { judgeChain, weakChain } from './chain.js';
import { APPLE_TLS_NOTE, type Check, check, checker } from './checks.js';
import type { TlsResult } from './net.js';

/** OpenSSL's word for a chain whose leaf's issuer the server did not send. */
const MISSING_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * judgeTls for another host than the discovery host (a BaseURL's, a redirect hop's): the same
 * checks, in `section`, each detail naming the host.
 */
export function judgeTlsOf(tls: TlsResult, host: string, now: Date, section: string): Check[] {
  return judgeTls(tls, host, now).map((c) =>
    check({ ...c, section, detail: `${host}: ${c.detail}` }),
  );
}

export function judgeTls(tls: TlsResult, host: string, now: Date): Check[] {
  const s = 'connection';
  if (tls.error !== undefined) {
    if (tls.legacyProtocol !== undefined) {
      return [
        checker(s, 'tls.protocol', 'TLS version').fail(
          `the server speaks only ${tls.legacyProtocol}; Apple devices need TLS 1.2 or newer`,
          `enable TLS 1.2 and 1.3 (${APPLE_TLS_NOTE})`,
        ),
      ];
    }
    return [
      checker(s, 'tls.handshake', 'TLS').fail(
        `no TLS connection (${tls.error})`,
        'serve HTTPS on port 443 for this host',
      ),
    ];
  }
  const out: Check[] = [];
  const error = tls.authorizationError;
  out.push(certificateCheck(tls, host));
  const protocol = tls.protocol ?? 'unknown';
  out.push(
    protocol === 'TLSv1.3' || protocol === 'TLSv1.2'
      ? checker(s, 'tls.protocol', 'TLS version').pass(protocol)
      : checker(s, 'tls.protocol', 'TLS version').fail(
          `${protocol}; Apple devices need TLS 1.2 or newer`,
          `enable TLS 1.2 and 1.3 (${APPLE_TLS_NOTE})`,
        ),
  );
  const cipher = tls.cipher ?? 'unknown';
  const strong =
    protocol === 'TLSv1.3' || (/ECDHE|DHE/.test(cipher) && /GCM|CHACHA20|CCM/.test(cipher));
  out.push(
    strong
      ? checker(s, 'tls.cipher', 'cipher').pass(cipher)
      : checker(s, 'tls.cipher', 'cipher').warn(
          `${cipher} is not a forward-secret AEAD suite`,
          `prefer ECDHE with AES-GCM or ChaCha20-Poly1305; Apple has announced it may require them (${APPLE_TLS_NOTE})`,
        ),
  );
  if (tls.validTo !== undefined && error !== 'CERT_HAS_EXPIRED') {
    out.push(expiryCheck(tls.validTo, tls.validFrom, now));
  }
  out.push(...tls12Checks(tls));
  out.push(...judgeChain(tls.chain ?? [], s));
  return out;
}

/** Trust and names: what a device's certificate evaluation says, with the fix. */
function certificateCheck(tls: TlsResult, host: string): Check {
  const error = tls.authorizationError;
  const certificate = checker('connection', 'tls.certificate', 'certificate');
  return error === undefined
    ? certificate.pass(`trusted, valid for ${host}`)
    : error === 'CERT_HAS_EXPIRED'
      ? certificate.fail(
          `expired on ${tls.validTo?.toISOString().slice(0, 10)}`,
          'renew the certificate',
        )
      : /altname|does not match|ERR_TLS_CERT_ALTNAME/i.test(error)
        ? certificate.fail(
            `not valid for ${host} (it names ${tls.names ?? 'no DNS name'})`,
            `use a certificate whose names include ${host}`,
          )
        : MISSING_ISSUER.has(error) && (tls.chain?.length ?? 0) <= 1
          ? certificate.fail(
              `the server sends its certificate without the intermediate certificate(s) that link it to a trusted root (${error})`,
              'serve the full chain: the certificate followed by its intermediates (fullchain.pem, not cert.pem)',
            )
          : weakChain(tls.chain ?? [])
            ? certificate.fail(
                `refused for a key or signature too weak (${error}): see the key sizes and signatures below`,
                'issue the certificate again from a CA with a SHA-256 chain, with an RSA 2048+ or ECDSA P-256+ key',
              )
            : certificate.fail(
                `not trusted (${error})`,
                'use a certificate from a public CA, with its full chain (or trust your CA on the devices)',
              );
}

const DAY_MS = 86_400_000;

/**
 * Renewal is due when a third of a certificate's lifetime remains, as ACME clients renew: a
 * fixed "30 days left" would warn for the whole life of a 45-day or 6-day certificate
 * (docs/protocol.md section 6, TLS). Without a start date, 90 days is assumed.
 */
export function expiryCheck(validTo: Date, validFrom: Date | undefined, now: Date): Check {
  const lifetime = validTo.getTime() - (validFrom?.getTime() ?? validTo.getTime() - 90 * DAY_MS);
  const left = validTo.getTime() - now.getTime();
  const days = (ms: number) => Math.floor(ms / DAY_MS);
  const date = validTo.toISOString().slice(0, 10);
  const of = `${days(left)} of ${days(lifetime)} days left`;
  const expiry = checker('connection', 'tls.expiry', 'expiry');
  return left >= lifetime / 3
    ? expiry.pass(`${date} (${of})`)
    : expiry.warn(
        `${date}: ${of}, less than a third`,
        'renew the certificate (is automatic renewal running?)',
      );
}

/**
 * TLS 1.2 as Apple's notice reads (docs/protocol.md section 6, TLS): a device limited to ECDHE
 * with AES-GCM, requiring the Extended Master Secret, must be able to connect. Where the server
 * also speaks TLS 1.3, devices use that, so a TLS 1.2 shortcoming only warns.
 */
export function tls12Checks(tls: TlsResult): Check[] {
  const both = tls.tls12;
  if (both === undefined) return [];
  const { apple, other } = both;
  const modern = tls.protocol === 'TLSv1.3';
  const suites = checker('connection', 'tls.apple-suites', 'TLS 1.2');
  // Where devices can use TLS 1.3, a TLS 1.2 shortcoming warns; else it fails.
  const short = modern ? suites.warn : suites.fail;
  const spare = modern ? '; devices that use TLS 1.3 are not affected' : '';
  const out: Check[] = [];
  if (apple.error === undefined) {
    out.push(
      apple.ems === true
        ? suites.pass(`${apple.cipher} with the Extended Master Secret, as Apple's suites need`)
        : short(
            `${apple.cipher} without the Extended Master Secret extension (RFC 7627)${spare}`,
            `turn the Extended Master Secret back on (OpenSSL has it on unless told otherwise) (${APPLE_TLS_NOTE})`,
          ),
    );
  } else if (other.error !== undefined && modern) {
    out.push(suites.pass('not offered: TLS 1.3 only'));
  } else {
    const only = other.error === undefined ? ` (it offers TLS 1.2 only with ${other.cipher})` : '';
    out.push(
      short(
        `a device limited to Apple's suites (ECDHE with AES-GCM) cannot connect over TLS 1.2${only}${spare}`,
        `offer ECDHE-ECDSA or ECDHE-RSA with AES-128-GCM or AES-256-GCM over TLS 1.2 (${APPLE_TLS_NOTE})`,
      ),
    );
  }
  if (apple.error === undefined && other.error === undefined) {
    out.push(
      checker('connection', 'tls.other-suites', 'TLS 1.2').warn(
        `also accepts ${other.cipher} over TLS 1.2, outside Apple's suites`,
        `offer only ECDHE with AES-GCM over TLS 1.2 (${APPLE_TLS_NOTE})`,
      ),
    );
  }
  return out;
}
