// `inspect` counted a patch layer's whiteouts among its files (found in stop 42's trial): a build that only removed
// a file showed a patch of 1 file. A whiteout is a file in the tar but removes one; FILES counts what a layer adds.
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('inspect of a patch layer', () => {
  it('counts the files it adds or changes, not the whiteouts of the files it removes', async () => {
    const dir = await tempDir('gl-inspect-whiteouts-');
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await rm(path.join(dir, 'app/config/server.cfg'));
    expect((await runCli(['build', '--tag', 'v2'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'app/config/extra.cfg'), 'extra 1\n');
    await rm(path.join(dir, 'app/config/game.xml'));
    expect((await runCli(['build', '--tag', 'v3'], { cwd: dir })).code).toBe(0);
    const patches = async (tag: string) => {
      const r = await runCli(['inspect', tag, '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { layers: { tree: string; status: string; files: number }[] }).layers.filter((l) => l.status === 'patch').map((l) => [l.tree, l.files]);
    };
    expect(await patches('v2')).toEqual([['app', 0]]);
    expect(await patches('v3')).toEqual([['app', 1]]);
  });
});
