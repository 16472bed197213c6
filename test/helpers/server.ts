// Starts the real server (startServer, as `mdm-discovery serve` does) on a loopback port, logs captured.
import { PassThrough } from 'node:stream';
import { parseEnv } from '../../src/config/env.js';
import { type RunningServer, startServer } from '../../src/server.js';

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
