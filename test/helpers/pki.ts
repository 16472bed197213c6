// A throwaway PKI for verify's fixtures, made with the openssl command: a CA and leaf certificates.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface Pki {
  readonly caPem: string;
  /** A leaf for these DNS names, signed by the CA; dates as openssl's YYYYMMDDHHMMSSZ. */
  leaf(
    names: readonly string[],
    dates?: { start: string; end: string } | { days: number },
    options?: LeafOptions,
  ): KeyPair;
  /**
   * A leaf signed by an intermediate CA (itself signed by the CA): `cert` is the leaf alone, as a
   * server that forgets its intermediate sends it; `chain` is the leaf and the intermediate.
   */
  chained(names: readonly string[]): KeyPair & { readonly chain: string };
  /** A self-signed certificate that no CA vouches for. */
  selfSigned(names: readonly string[]): KeyPair;
  dispose(): void;
}

const CA_CONFIG = `[ca]
default_ca = test
[test]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[leaf]
subjectAltName = $ENV::SAN
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
`;

export interface LeafOptions {
  /** openssl's -newkey: `rsa:1024`, `rsa:2048`; a P-256 key when absent. */
  readonly newkey?: string;
  /** The signature's digest: `sha1` for a weak one; sha256 when absent. */
  readonly md?: string;
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'mdm-pki-'));
  const openssl = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('openssl', args, { cwd: dir, env: { ...process.env, ...env }, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=mdm-discovery test CA',
  ]);
  let n = 0;
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  /** A key (P-256 unless `newkey` says otherwise) and its request `<id>.csr` for `subject`. */
  const request = (id: string, subject: string, newkey = ec) =>
    openssl(['req', ...newkey, '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', subject]);
  /** `<id>.csr` signed by the `ca` pair (`<ca>.crt`, `<ca>.key`) with `<id>.ext`, as `<id>.crt`. */
  const sign = (id: string, ca: string, serial: number) =>
    openssl([
      'x509',
      '-req',
      '-in',
      `${id}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-set_serial',
      String(serial),
      '-days',
      '30',
      '-sha256',
      '-extfile',
      `${id}.ext`,
      '-out',
      `${id}.crt`,
    ]);
  return {
    caPem: read('ca.crt'),
    leaf(names, dates = { days: 365 }, options = {}) {
      const id = `leaf${n++}`;
      request(id, `/CN=${names[0]}`, options.newkey ? ['-newkey', options.newkey, '-nodes'] : ec);
      const validity =
        'days' in dates
          ? ['-days', String(dates.days)]
          : ['-startdate', dates.start, '-enddate', dates.end];
      openssl(
        [
          'ca',
          '-batch',
          '-config',
          'ca.cnf',
          '-extensions',
          'leaf',
          '-notext',
          ...(options.md ? ['-md', options.md] : []),
          ...validity,
          '-in',
          `${id}.csr`,
          '-out',
          `${id}.crt`,
        ],
        {
          SAN: names.map((name) => `DNS:${name}`).join(','),
        },
      );
      return { key: read(`${id}.key`), cert: read(`${id}.crt`) };
    },
    chained(names) {
      if (!existsSync(join(dir, 'int.crt'))) {
        writeFileSync(
          join(dir, 'int.ext'),
          'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
        );
        request('int', '/CN=mdm-discovery test intermediate');
        sign('int', 'ca', 2);
      }
      const id = `chained${n++}`;
      writeFileSync(
        join(dir, `${id}.ext`),
        `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n`,
      );
      request(id, `/CN=${names[0]}`);
      sign(id, 'int', 3000 + n);
      const cert = read(`${id}.crt`);
      return { key: read(`${id}.key`), cert, chain: cert + read('int.crt') };
    },
    selfSigned(names) {
      const id = `self${n++}`;
      openssl([
        'req',
        '-x509',
        ...ec,
        '-keyout',
        `${id}.key`,
        '-out',
        `${id}.crt`,
        '-days',
        '30',
        '-subj',
        `/CN=${names[0]}`,
        '-addext',
        `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}`,
      ]);
      return { key: read(`${id}.key`), cert: read(`${id}.crt`) };
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
