import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';

describe('parseEnv', () => {
  it('has defaults for a local demo', () => {
    expect(parseEnv({})).toEqual({
      HOST: '127.0.0.1',
      PORT: 8080,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'auto',
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
    ).toEqual({
      HOST: '0.0.0.0',
      PORT: 9000,
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      MDM_DISCOVERY_CONFIG: '/etc/mdm-discovery',
      LOG_HASH_KEY: 'k'.repeat(32),
    });
    expect(parseEnv({ PORT: '' }).PORT).toBe(8080);
  });

  it('names each bad variable and the fix, without echoing a secret', () => {
    expect(() =>
      parseEnv({ PORT: '80a', LOG_LEVEL: 'loud', LOG_HASH_KEY: 'short-secret' }),
    ).toThrow(
      [
        'invalid environment:',
        'PORT="80a": must be a whole number from 0 to 65535',
        'LOG_LEVEL="loud": Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
        'LOG_HASH_KEY: must be at least 16 characters (use: openssl rand -hex 32)',
      ].join('\n'),
    );
  });
});
