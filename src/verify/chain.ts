// The certificate chain a server sends, judged by the rules Apple devices apply (App Transport
// Security; docs/protocol.md section 7): RSA keys of 2048 bits or more, ECDSA of 256 or more,
// SHA-2 signatures everywhere but the trust anchor.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { type Check, checker } from './checks.js';
import { derElement } from './der.js';

export interface ChainCert {
  /** The subject's common name, or the whole subject. */
  readonly name: string;
  /** rsa, ec, ed25519, … */
  readonly keyType: string;
  /** RSA modulus bits, or the curve's size for EC. */
  readonly keyBits: number;
  readonly curve?: string | undefined;
  readonly signature: string;
  /** Self-signed: a trust anchor, whose own signature nobody checks. */
  readonly selfSigned: boolean;
}

/** The certificates of a handshake, leaf first, as Node chains them (getPeerCertificate(true)). */
export function chainOf(leaf: DetailedPeerCertificate | undefined): ChainCert[] {
  const out: ChainCert[] = [];
  const seen = new Set<string>();
  for (let cert = leaf; cert?.raw !== undefined; cert = cert.issuerCertificate) {
    const fingerprint = cert.fingerprint256;
    if (seen.has(fingerprint)) break;
    seen.add(fingerprint);
    out.push(describe(cert.raw));
    if (cert.issuerCertificate === cert) break;
  }
  return out;
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  'P-256': 256,
  secp384r1: 384,
  'P-384': 384,
  secp521r1: 521,
  'P-521': 521,
  secp256k1: 256,
  secp224r1: 224,
  secp192r1: 192,
  prime192v1: 192,
};

function describe(raw: Buffer): ChainCert {
  const x509 = new X509Certificate(raw);
  const key = x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  const keyBits = details.modulusLength ?? (curve === undefined ? 0 : (CURVE_BITS[curve] ?? 0));
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1];
  return {
    name: cn ?? x509.subject.replace(/\n/g, ', '),
    keyType: key.asymmetricKeyType ?? 'unknown',
    keyBits,
    curve,
    signature: signatureAlgorithm(raw),
    selfSigned: x509.subject === x509.issuer && x509.checkIssued(x509) && x509.verify(key),
  };
}

/** OIDs of the signature algorithms a chain may carry (RFC 3279, 4055, 5758, 8410). */
const SIGNATURES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

/** Weak: a collision can forge the certificate. */
const WEAK = /md5|sha1/i;

/**
 * The certificate's signatureAlgorithm, read from its DER (Node's X509Certificate does not give
 * it): Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, … }, … }.
 */
export function signatureAlgorithm(der: Buffer): string {
  const certificate = derElement(der, 0);
  const tbs = derElement(der, certificate.start);
  const algorithm = derElement(der, tbs.end);
  const oid = derElement(der, algorithm.start);
  if (certificate.tag !== 0x30 || algorithm.tag !== 0x30 || oid.tag !== 0x06) return 'unknown';
  const bytes = der.subarray(oid.start, oid.end);
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  // The first number holds the first two arcs: 40 × the first (0, 1 or 2) + the second.
  const first = parts.shift() ?? 0;
  const top = Math.min(2, Math.floor(first / 40));
  const dotted = [top, first - 40 * top, ...parts].join('.');
  return SIGNATURES[dotted] ?? dotted;
}

/** Whether any certificate of the chain has a key or a signature Apple devices refuse. */
export function weakChain(chain: readonly ChainCert[]): boolean {
  return chain.some((c) => weakKey(c) !== undefined || (!c.selfSigned && WEAK.test(c.signature)));
}

/** Too weak for Apple devices: RSA under 2048 bits, ECDSA under 256; other kinds are not judged. */
function weakKey(cert: ChainCert): string | undefined {
  if (cert.keyType === 'rsa' || cert.keyType === 'rsa-pss') {
    return cert.keyBits < 2048 ? `RSA ${cert.keyBits} bits` : undefined;
  }
  if (cert.keyType === 'ec') {
    return cert.keyBits < 256 ? `ECDSA ${cert.keyBits} bits (${cert.curve})` : undefined;
  }
  return undefined;
}

const role = (i: number, cert: ChainCert) =>
  i === 0
    ? `the leaf "${cert.name}"`
    : cert.selfSigned
      ? `the root "${cert.name}"`
      : `the intermediate "${cert.name}"`;

const keyText = (c: ChainCert) =>
  c.keyType === 'ec' ? `ECDSA ${c.keyBits}` : c.keyType === 'rsa' ? `RSA ${c.keyBits}` : c.keyType;

/**
 * Key sizes and signature algorithms of every certificate the chain holds (the trust anchor's
 * own signature aside), each failure naming the certificate, what was found and the fix.
 */
export function judgeChain(chain: readonly ChainCert[], section: string, prefix = ''): Check[] {
  if (chain.length === 0) return [];
  const out: Check[] = [];
  const keys = checker(section, 'tls.chain-keys', 'key sizes');
  const weakKeys = chain.flatMap((c, i) => {
    const weak = weakKey(c);
    return weak === undefined ? [] : [`${role(i, c)} has ${weak}`];
  });
  out.push(
    weakKeys.length === 0
      ? keys.pass(`${prefix}${chain.map(keyText).join(', ')}`)
      : keys.fail(
          `${prefix}${weakKeys.join('; ')}: Apple devices need RSA keys of 2048 bits or more, or ECDSA of 256 or more`,
          'issue the certificate again with an RSA 2048 (or larger) or ECDSA P-256 (or larger) key, from a CA whose chain does the same',
        ),
  );
  const signatures = checker(section, 'tls.chain-signatures', 'signatures');
  const weakSignatures = chain.flatMap((c, i) =>
    !c.selfSigned && WEAK.test(c.signature) ? [`${role(i, c)} is signed with ${c.signature}`] : [],
  );
  out.push(
    weakSignatures.length === 0
      ? signatures.pass(
          `${prefix}${chain
            .filter((c) => !c.selfSigned)
            .map((c) => c.signature)
            .join(', ')}`,
        )
      : signatures.fail(
          `${prefix}${weakSignatures.join('; ')}: Apple devices refuse SHA-1 and MD5 signatures`,
          'get a chain signed with SHA-256 or better from your CA (reissue the certificate; replace an old intermediate)',
        ),
  );
  return out;
}
