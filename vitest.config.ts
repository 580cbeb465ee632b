import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/file-order.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI runs compiled code (dist/): compile it first when the sources changed.
    globalSetup: ['test/support/global-setup.ts'],
    // After every test: /dev/null is still the null device (see the file). After every file: its temp folders go.
    setupFiles: ['test/support/dev-null-guard.ts', 'test/support/temp-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers and write real files; two cores, so keep forks few.
    pool: 'forks',
    maxWorkers: 2,
    // The longest files first (test/support/file-order.ts), so the run does not end on one long file alone.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
