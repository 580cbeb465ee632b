// diff and build use the same words: a layer the next build adds on top of the last one is a "patch" in both.
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('diff says patch where build says patch', () => {
  it('a small asset change: diff predicts a patch layer, build makes it', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'app-media/levels/new.dat'), 'x'.repeat(100));
    // Files added, none rewritten: no old copy becomes dead, so compaction (issue 16) has nothing to rewrite in this
    // small sample and the only new layer is the patch.
    await writeFile(path.join(dir, 'app-media/levels/new2.dat'), 'y'.repeat(100));

    const json = JSON.parse((await runCli(['diff', '--json'], { cwd: dir })).stdout);
    const coming = json.layers.layers.filter((l: { status: string }) => l.status === 'rebuilt');
    expect(coming).toEqual([expect.objectContaining({ tree: 'app-media', patch: true, files: 2 })]);
    const text = (await runCli(['diff'], { cwd: dir })).stdout;
    expect(text).toMatch(/^app-media +\d+ +2 +[\d.]+ \S+ +patch$/m);
    expect(text).toContain('to rebuild (1 patch);');
    expect(text).not.toMatch(/ rebuilt$/m);

    const built = (await runCli(['build', '--tag', 'v2'], { cwd: dir })).stdout;
    expect(built).toMatch(/^app-media +\d+ +2 +[\d.]+ \S+ +[\d.]+ \S+ +patch +sha256:/m);
  });
});
