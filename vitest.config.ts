import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers on loopback and child processes; keep the 2-core machine calm.
    pool: 'forks',
    // test/security/socket.test.ts collects garbage before comparing memory.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    testTimeout: 20_000,
  },
});
