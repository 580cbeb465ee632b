// `build --push` with a repository that is not a valid reference (upper case, a space, a stray colon): refused
// before the trees are scanned. The error was printed at once, but the scan went on hashing every tree (minutes on
// a cold 3 GB game) before the command exited 1, printing its progress after the error.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeGame } from './support/trees.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-push-badref-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function refusedBeforeScan(name: string, push: string[], bad: string): Promise<void> {
  const dir = path.join(root, name);
  await writeGame(dir);
  const r = await runCli(['build', ...push.flatMap((p) => ['--push', p])], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^error\\[registry\\.reference\\]: invalid image reference "${bad.replace(/[.]/g, '\\.')}"`));
  expect(r.stderr).not.toMatch(/^(read|hash|build) /m);
  expect(existsSync(path.join(dir, '.gamelayer', 'records', 'scan-last.json'))).toBe(false);
}

describe('build --push with an invalid repository', () => {
  it('upper case: refused before the scan', async () => {
    await refusedBeforeScan('upper', ['127.0.0.1:5000/Studio/Game'], '127.0.0.1:5000/Studio/Game');
  });
  it('the second of two --push: refused before the scan, nothing asked of the first', async () => {
    await refusedBeforeScan('second', ['127.0.0.1:5000/studio/game', '127.0.0.1:5000/studio/ga me'], '127.0.0.1:5000/studio/ga me');
  });
});
