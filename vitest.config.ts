import { readFileSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/file-order.js';

// Files listed in test/support/shared-isolation.json run without vitest's per-file isolation (a fresh module graph
// per file, about 0.24 s of CPU each): a worker keeps its loaded modules from one listed file to the next. Every
// other file, a new one too, runs isolated; list a file only once it passes sharing a worker (see the list's note).
const shared = (JSON.parse(readFileSync(new URL('./test/support/shared-isolation.json', import.meta.url), 'utf8')) as { files: string[] }).files;

// What both projects run with (a project inherits nothing from this root config).
const perFile = {
  // After every test: /dev/null is still the null device (see the file). After every file: its temp folders go.
  setupFiles: ['test/support/dev-null-guard.ts', 'test/support/temp-cleanup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
  // Integration tests start real servers and write real files; two cores, so keep forks few (maxWorkers below).
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    // The CLI runs compiled code (dist/): compile it first when the sources changed. Runs once, for both projects.
    globalSetup: ['test/support/global-setup.ts'],
    maxWorkers: 2,
    // The longest files first (test/support/file-order.ts), so the run does not end on one long file alone.
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      { test: { ...perFile, name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...shared] } },
      { test: { ...perFile, name: 'shared', include: shared, isolate: false } },
    ],
  },
});
