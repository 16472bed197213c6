// TLS settings for serving HTTPS directly: what Apple has announced for device-management servers.
import { APPLE_TLS12_CIPHERS } from '../protocol.js';

/**
 * TLS 1.2 or newer; over TLS 1.2 only ECDHE with AES-GCM, the suites Apple's notice leaves (the
 * Extended Master Secret extension is on by default in OpenSSL); the TLS 1.3 suites all qualify.
 * https://support.apple.com/en-us/126655
 */
export const TLS_SETTINGS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    ...APPLE_TLS12_CIPHERS,
  ].join(':'),
  honorCipherOrder: true,
} as const;
