import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';

describe('parseEnv', () => {
  it('has defaults for a local demo', () => {
    expect(parseEnv({})).toEqual({
      HOST: '127.0.0.1',
      PORT: 8080,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'auto',
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: 9090,
      TRUST_PROXY: false,
      USERS_FILE_ROOTS: [],
      SHUTDOWN_GRACE_MS: 10_000,
      REQUEST_TIMEOUT_MS: 10_000,
      HEADERS_TIMEOUT_MS: 10_000,
      KEEP_ALIVE_TIMEOUT_MS: 5_000,
      MAX_URL_LENGTH: 8192,
      RATE_LIMIT_PER_MINUTE: 6000,
      RATE_LIMIT_IPV6_PREFIX: 64,
      WATCH_CONFIG: true,
      RELOAD_DEBOUNCE_MS: 300,
      WATCH_INTERVAL: 0,
      WATCH_DEEP_INTERVAL: 3_600_000,
      WATCH_CONCURRENCY: 4,
      WATCH_TIMEOUT_MS: 10_000,
      WATCH_RESOLVE: [],
    });
  });

  it('reads every setting and treats empty values as unset', () => {
    expect(
      parseEnv({
        HOST: '0.0.0.0',
        PORT: '9000',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        MDM_DISCOVERY_CONFIG: '/etc/mdm-discovery',
        LOG_HASH_KEY: 'k'.repeat(32),
        UNRELATED: 'x',
        MDM_DISCOVERY_EXTRA: '',
      }),
    ).toMatchObject({
      HOST: '0.0.0.0',
      PORT: 9000,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      MDM_DISCOVERY_CONFIG: '/etc/mdm-discovery',
      LOG_HASH_KEY: 'k'.repeat(32),
    });
    expect(parseEnv({ PORT: '' }).PORT).toBe(8080);
  });

  it.each([
    ['off', false],
    ['2', 2],
    ['10.0.0.0/8, 127.0.0.1,::1,loopback', ['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']],
  ])('reads TRUST_PROXY=%j', (value, expected) => {
    expect(parseEnv({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });

  it('refuses a bad TRUST_PROXY, half a TLS pair and ADMIN_PORT nonsense', () => {
    expect(() =>
      parseEnv({ TRUST_PROXY: '10.0.0.0/99', TLS_CERT_FILE: '/c.pem', ADMIN_PORT: 'no' }),
    ).toThrow(
      [
        'invalid environment: ADMIN_PORT="no": must be a port number from 0 to 65535, or off',
        'TRUST_PROXY="10.0.0.0/99": "10.0.0.0/99" is not an address or CIDR; use off, a hop count, or addresses/CIDRs such as 10.0.0.0/8,127.0.0.1',
      ].join('; '),
    );
    expect(() => parseEnv({ TLS_CERT_FILE: '/c.pem' })).toThrow(
      'TLS_KEY_FILE: is required with the other TLS_*_FILE: set both to serve HTTPS, or neither',
    );
    expect(parseEnv({ ADMIN_PORT: 'off' }).ADMIN_PORT).toBe('off');
  });

  it('reads the IPv6 prefix the rate limit counts by, from 32 to 128 bits', () => {
    expect(parseEnv({ RATE_LIMIT_IPV6_PREFIX: '48' }).RATE_LIMIT_IPV6_PREFIX).toBe(48);
    expect(parseEnv({ RATE_LIMIT_IPV6_PREFIX: '128' }).RATE_LIMIT_IPV6_PREFIX).toBe(128);
    for (const bad of ['16', '129', '64.5', '/64']) {
      expect(() => parseEnv({ RATE_LIMIT_IPV6_PREFIX: bad })).toThrow(
        `invalid environment: RATE_LIMIT_IPV6_PREFIX="${bad}": must be a whole number from 32 to 128`,
      );
    }
  });

  it('names each bad variable and the fix, without echoing a secret', () => {
    expect(() =>
      parseEnv({ PORT: '80a', LOG_LEVEL: 'loud', LOG_HASH_KEY: 'short-secret' }),
    ).toThrow(
      [
        'invalid environment: PORT="80a": must be a whole number from 0 to 65535',
        'LOG_LEVEL="loud": Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
        'LOG_HASH_KEY: must be at least 16 characters (use: openssl rand -hex 32)',
      ].join('; '),
    );
  });
});

describe('watch settings', () => {
  it('reads durations as 30s, 5m, 1h or milliseconds, and off', () => {
    expect(parseEnv({ WATCH_INTERVAL: '5m', WATCH_DEEP_INTERVAL: '2h' })).toMatchObject({
      WATCH_INTERVAL: 300_000,
      WATCH_DEEP_INTERVAL: 7_200_000,
    });
    expect(parseEnv({ WATCH_INTERVAL: '30s' }).WATCH_INTERVAL).toBe(30_000);
    expect(parseEnv({ WATCH_INTERVAL: '1500' }).WATCH_INTERVAL).toBe(1500);
    expect(parseEnv({ WATCH_INTERVAL: 'off' }).WATCH_INTERVAL).toBe(0);
    expect(() => parseEnv({ WATCH_INTERVAL: 'weekly' })).toThrow(
      'invalid environment: WATCH_INTERVAL="weekly": must be a duration such as 30s, 5m or 1h, or off',
    );
    expect(
      parseEnv({ WATCH_RESOLVE: 'a.example:443:10.0.0.1, b.example:443:10.0.0.2' }).WATCH_RESOLVE,
    ).toEqual(['a.example:443:10.0.0.1', 'b.example:443:10.0.0.2']);
  });
});
