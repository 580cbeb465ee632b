import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

// Registered once per test file when this module loads, so directories made inside beforeAll are removed too.
const made: string[] = [];
afterAll(async () => {
  // Each removed whatever another's removal does: one that fails (a file still held open) is tried again at exit.
  const dirs = made.splice(0);
  const results = await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })));
  made.push(...dirs.filter((_, i) => results[i]!.status === 'rejected'));
});
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
