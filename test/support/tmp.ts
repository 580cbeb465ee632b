import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];

/**
 * Removes the directories tempDir made; temp-cleanup.ts (a setup file) runs it after every test file, after the
 * file's own afterAll hooks. Not registered here as this module loads: a worker shared by many files (the project
 * "shared" in vitest.config.ts) loads it once, for its first file only.
 */
export async function removeTempDirs(): Promise<void> {
  // Each removed whatever another's removal does: one that fails (a file still held open) is tried again at exit.
  const dirs = made.splice(0);
  const results = await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  made.push(...dirs.filter((_, i) => results[i]!.status === 'rejected'));
}
// A file whose afterAll did not run to its end (a hook before it failed, the run was cut short) still leaves
// nothing in /tmp when its worker exits.
process.once('exit', () => {
  for (const d of made.splice(0)) {
    try {
      rmSync(d, { recursive: true, force: true, maxRetries: 2 });
    } catch (e) {
      process.stderr.write(`test/support/tmp.ts: could not remove ${d}: ${(e as Error).message}\n`);
    }
  }
});

/** A fresh temp directory, removed after the test file. */
export async function tempDir(prefix = 'gl-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
