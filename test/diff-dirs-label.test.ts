// `diff A B` with two folders scans each as one tree. Its row said `app` (the tree it was scanned as) whatever the
// folders were, as if the game's app tree had been compared; it says `dir`, as states.ts documents it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('diff DIR DIR', () => {
  it('labels the row of two folders dir, in the table, the changed paths, the progress and --json', async () => {
    const root = await tempDir('gl-diff-label-');
    await mkdir(path.join(root, 'engine-old'));
    await mkdir(path.join(root, 'engine-new'));
    await writeFile(path.join(root, 'engine-old', 'x'), 'a\n');
    await writeFile(path.join(root, 'engine-new', 'x'), 'bb\n');
    const text = await runCli(['diff', 'engine-old', 'engine-new'], { cwd: root });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^dir +0 +1 +0 +0 /m);
    expect(text.stdout).toMatch(/^dir:\n {2}~ x \(2 B → 3 B\)$/m);
    expect(text.stdout).not.toMatch(/\bapp\b/);
    expect(text.stderr).not.toMatch(/\bapp\b/);
    const json = await runCli(['diff', 'engine-old', 'engine-new', '--json'], { cwd: root });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { trees: { label: string }[] }).trees.map((t) => t.label)).toEqual(['dir']);
  });
});
