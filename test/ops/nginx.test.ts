import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_PATH as WELL_KNOWN } from '../../src/protocol.js';
import { type CapturedServer, startCaptured } from '../helpers/server.js';

// The README's nginx recipe, run for real in front of the service (.ci/run installs nginx).
const hasNginx = spawnSync('nginx', ['-v']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasNginx)('the README nginx recipe', () => {
  let dir: string;
  let server: CapturedServer;
  let nginx: ReturnType<typeof spawn>;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdm-nginx-'));
    server = await startCaptured(undefined, { TRUST_PROXY: '127.0.0.1' });
    port = await freePort();
    const upstream = new URL(server.url).port;
    await writeFile(
      join(dir, 'nginx.conf'),
      `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    # --- the recipe, as in the README ---
    location = /.well-known/com.apple.remotemanagement {
        proxy_pass http://127.0.0.1:${upstream};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
    # --- the rest of an existing website ---
    location / { return 200 "website"; }
  }
}
`,
    );
    nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
    const until = Date.now() + 5000;
    for (;;) {
      try {
        await (await request(`http://127.0.0.1:${port}/`)).body.text();
        break;
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }, 20_000);

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('forwards the path with its query and the Host, and leaves the rest of the site alone', async () => {
    const via = (path: string, host: string) =>
      request(`http://127.0.0.1:${port}${path}`, { headers: { host } });
    const direct = await request(`${server.url}${WELL_KNOWN}?model-family=iPhone`, {
      headers: { host: 'contoso.example' },
    });
    const proxied = await via(
      `${WELL_KNOWN}?user-identifier=joe@contoso.example&model-family=iPhone`,
      'contoso.example',
    );
    expect(proxied.statusCode).toBe(200);
    expect(proxied.headers['content-type']).toBe('application/json');
    expect(await proxied.body.text()).toBe(await direct.body.text());
    // The query reaches the service: the demo refuses a Watch at contoso.example.
    const watch = await via(
      `${WELL_KNOWN}?user-identifier=joe@contoso.example&model-family=Watch`,
      'contoso.example',
    );
    expect(watch.statusCode).toBe(403);
    await watch.body.text();
    const site = await via('/', 'contoso.example');
    expect(await site.body.text()).toBe('website');
    expect(server.logs()).toContain('"tenant":"contoso","rule":"no-tv-or-watch"');
  });
});
