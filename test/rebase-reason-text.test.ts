// The build prints a rebased or compacted tree's reason in parentheses, and the reason held parentheses of its own:
// `app: rebased (the change holds 100 % of the tree's bytes (re-planned from 50 %))`, `app-media: compacted (rewrote
// layer 1 (25 % dead))`. Reworded without them.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('a tree rebased because the change holds most of its bytes', () => {
  it('is said without nested parentheses', async () => {
    const dir = await tempDir('gl-rebase-reason-');
    await writeTinyGame(dir, ['game: rebase-reason', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'app', 'f.txt'), 'all of the app tree changed\n');
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("app: rebased (the change holds 100 % of the tree's bytes, at least the 50 % that re-plans a tree)\n");
  });

  it('a compacted layer is said without nested parentheses', async () => {
    const dir = await tempDir('gl-compact-reason-');
    await writeTinyGame(dir, ['game: compact-reason', 'start: [/opt/local/engine/run]', 'layers:', '  targetSize: 40KiB']);
    // Six incompressible 20 kB paks in layers of about 40 KiB: a rewritten pak leaves a part of its layer dead.
    const pak = (i: number) => writeFile(path.join(dir, 'app-media', `p${i}.pak`), randomBytes(20_000));
    for (let i = 1; i <= 6; i++) await pak(i);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await pak(1);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\napp-media: compacted \(rewrote layer \d+, \d+ % dead\)\n/);
  });
});
