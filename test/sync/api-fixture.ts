// An HTTPS fixture on loopback with its own CA for sync's API sources (CIPP, Graph): one server
// for every host (the tests --resolve them all to it), the OpenID metadata of the sign-in host
// answered from the fixtures' TENANTS, a temporary folder with the CA's PEM.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki } from '../helpers/pki.js';
import { TENANTS } from '../verify/fixtures.js';

export interface ApiFixture {
  readonly port: number;
  readonly dir: string;
  readonly caFile: string;
  close(): Promise<void>;
}

export function reply(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The body of a POST, read whole. */
export function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

/** Serves `names` with `handle`; the sign-in host's OpenID metadata is answered before it. */
export async function startApiFixture(
  names: string[],
  signInHost: string,
  handle: (req: IncomingMessage, res: ServerResponse, url: URL) => void,
): Promise<ApiFixture> {
  const pki = makePki();
  const server = createServer(pki.leaf(names), (req, res) => {
    const url = new URL(req.url ?? '/', `https://${req.headers.host}`);
    const openid = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (url.hostname === signInHost && openid) {
      const tenant = TENANTS[decodeURIComponent(openid[1] as string)];
      if (tenant === undefined) return reply(res, 400, { error_description: 'AADSTS90002' });
      return reply(res, 200, { issuer: `https://${signInHost}/${tenant}/v2.0` });
    }
    handle(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(join(tmpdir(), 'mdm-api-'));
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, pki.caPem);
  return {
    port: (server.address() as AddressInfo).port,
    dir,
    caFile,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      pki.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The network options that send every host to the fixture and trust its CA. */
export function networkArgs(api: ApiFixture): string[] {
  return ['--ca', api.caFile, '--resolve', `*:443:127.0.0.1:${api.port}`];
}

/** An app's credentials in the environment, in the order of `names` (client ID, secret, tenant). */
export function setCredentials(names: readonly string[], values: readonly string[]): void {
  names.forEach((name, i) => {
    process.env[name] = values[i];
  });
}

export function clearCredentials(names: readonly string[]): void {
  for (const name of names) delete process.env[name];
}
