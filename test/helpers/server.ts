// Starts the real server (startServer, as `mdm-discovery serve` does) on a loopback port, logs captured.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseEnv } from '../../src/config/env.js';
import { type RunningServer, startServer } from '../../src/server.js';
import type { Pki } from './pki.js';

export interface CapturedServer extends RunningServer {
  /** Every log line written so far. */
  logs(): string;
  close(): Promise<void>;
}

export async function startCaptured(
  configPath?: string,
  env: Record<string, string> = {},
): Promise<CapturedServer> {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const server = await startServer(
    parseEnv({ HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', LOG_FORMAT: 'json', ...env }),
    { configPath, logDestination: sink },
  );
  return {
    ...server,
    logs: () => text,
    close: async () => {
      await server.shutdown();
    },
  };
}

/** The real server serving HTTPS with a fresh leaf for contoso.example, its files `dir/name-*.pem`. */
export async function startHttps(
  pki: Pki,
  dir: string,
  name: string,
  env: Record<string, string> = {},
): Promise<{ server: CapturedServer; cert: string; key: string; port: number }> {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  const leaf = pki.leaf(['contoso.example']);
  await writeFile(cert, leaf.cert);
  await writeFile(key, leaf.key);
  const server = await startCaptured(undefined, {
    TLS_CERT_FILE: cert,
    TLS_KEY_FILE: key,
    WATCH_CONFIG: 'false',
    ...env,
  });
  return { server, cert, key, port: Number(new URL(server.url).port) };
}
