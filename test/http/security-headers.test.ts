import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/http/security-headers.js';

describe('securityHeaders', () => {
  it('is helmet configured for a JSON answer: no framing, no sniffing, no referrer, HSTS for this host only', () => {
    expect(securityHeaders()).toEqual({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });
});
