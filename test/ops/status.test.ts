// The status page without a browser: its headers, escaping, and the rate limit of the explain form.
import { describe, expect, it } from 'vitest';
import { startCaptured } from '../helpers/server.js';

describe('the status page', () => {
  it('is one self-contained HTML page under a strict CSP, and escapes what it echoes', async () => {
    const server = await startCaptured(undefined, { WATCH_CONFIG: 'false' });
    try {
      const res = await fetch(
        `${server.adminUrl}/status?host=%3Cscript%3Ealert(1)%3C%2Fscript%3E&user=%22%3E%3Cb%3E`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
      );
      const body = await res.text();
      expect(body).not.toMatch(/<script|src=|href="http/);
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(body).toContain('value="&quot;&gt;&lt;b&gt;"');
      expect(await (await fetch(`${server.adminUrl}/`)).text()).toContain(
        '<h1>mdm-discovery status</h1>',
      );
    } finally {
      await server.close();
    }
  });

  it('limits the explain form to 120 requests a minute per client', async () => {
    const server = await startCaptured(undefined, { WATCH_CONFIG: 'false' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 121; i++) {
        statuses.push((await fetch(`${server.adminUrl}/status?host=contoso.example`)).status);
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(120);
      expect(statuses.at(-1)).toBe(429);
      // The page itself, without the form, is not limited.
      expect((await fetch(`${server.adminUrl}/status`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
