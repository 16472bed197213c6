// The TLS certificate and key the service serves with: read safely, and renewed without a restart.
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import { readSettingFile } from '../config/read-file.js';
import { TLS_SETTINGS } from '../http/tls.js';

/** A PEM certificate chain or key larger than this is refused. */
const MAX_TLS_FILE_BYTES = 1024 * 1024;

export interface TlsFiles {
  readonly key: string;
  readonly cert: string;
}

/** TLS_CERT_FILE and TLS_KEY_FILE read, or undefined when not set; throws naming the variable. */
export function readTls(env: Env): TlsFiles | undefined {
  if (!env.TLS_CERT_FILE || !env.TLS_KEY_FILE) return undefined;
  return {
    cert: readSettingFile('TLS_CERT_FILE', env.TLS_CERT_FILE, MAX_TLS_FILE_BYTES),
    key: readSettingFile('TLS_KEY_FILE', env.TLS_KEY_FILE, MAX_TLS_FILE_BYTES),
  };
}

/**
 * A renewer for a server's certificate: re-reads the files, and sets a changed pair on the server
 * (`renewed`); a broken one is refused and the old one kept (`refused`).
 */
export function tlsRenewer(
  server: HttpsServer,
  env: Env,
  current: TlsFiles,
  logger: Logger,
): () => 'unchanged' | 'renewed' | 'refused' {
  let serving = current;
  return () => {
    try {
      const next = readTls(env);
      if (!next || (next.cert === serving.cert && next.key === serving.key)) return 'unchanged';
      // Throws for a key that does not match its certificate, or unreadable PEM.
      server.setSecureContext({ ...next, ...TLS_SETTINGS });
      serving = next;
      logger.info('TLS certificate reloaded');
      return 'renewed';
    } catch (error) {
      logger.error(
        { err: error },
        'TLS certificate reload refused: still serving the previous certificate',
      );
      return 'refused';
    }
  };
}
