import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI runs compiled code (dist/): compile it first when the sources changed.
    globalSetup: ['test/support/global-setup.ts'],
    // After every test: /dev/null is still the null device (see the file).
    setupFiles: ['test/support/dev-null-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers and write real files; two cores, so keep forks few.
    pool: 'forks',
    maxWorkers: 2,
  },
});
