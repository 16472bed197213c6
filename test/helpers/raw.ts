// Raw bytes on a new loopback connection: requests no client library would send as written.
import { connect } from 'node:net';

/** Sends `bytes` on a new connection to 127.0.0.1:`port` and returns everything written back. */
export function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}
