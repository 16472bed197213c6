// The baseline: a bare node:http server that writes the same precomputed bytes as the service
// answered for the scenario (status, headers, body), whatever the request. Started by bench/http.ts.
import { createServer } from 'node:http';

const { status, headers, body } = JSON.parse(process.env.BASELINE_RESPONSE ?? '{}');
const bytes = body;
const server = createServer((req, res) => {
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : bytes);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
