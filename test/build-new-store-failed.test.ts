// A build that fails with a new --store leaves no empty folders behind (the store and its `.holds/` this run made);
// a store folder that was there before stays, and a build that succeeds keeps its new store.
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let root: string;
let game: string;

beforeAll(async () => {
  root = await tempDir('gl-new-store-');
  game = path.join(root, 'game');
  copySample(game);
});

describe('a failed build with a new --store', () => {
  it('removes the folders it created: no empty .holds/ is left', async () => {
    const store = path.join(root, 'new', 'store');
    const r = await runCli(['build', '--store', store, '--platform', 'linux/arm64'], { cwd: game });
    expect(r.stderr).toContain('error[build.platform]');
    expect(existsSync(path.join(root, 'new'))).toBe(false);
  });

  it('keeps a store folder that was there before', async () => {
    const store = path.join(root, 'mine');
    await mkdir(store);
    const r = await runCli(['build', '--store', store, '--platform', 'linux/arm64'], { cwd: game });
    expect(r.stderr).toContain('error[build.platform]');
    expect(existsSync(store)).toBe(true);
  });

  it('a build that succeeds keeps its new store', async () => {
    const store = path.join(root, 'good', 'store');
    const r = await runCli(['build', '--store', store, '--tag', 'v1'], { cwd: game });
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(store)).toContain('index.json');
  }, 120_000);
});
