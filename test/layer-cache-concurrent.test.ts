// Two builds at the same time on one state folder (two configs sharing .gamelayer/, two CI jobs on one workspace).
// Each saved the layer cache as the rows it held, read at its start: the later save replaced the rows the other had
// saved, and that config's next build, with nothing changed, packed its layers again. A save now makes its changes
// on the rows on disk, under a lock.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeStudioGames } from './support/studio-folder.js';
import { writeTree } from './support/trees.js';
import { prng } from './support/prng.js';

const HOLD = path.resolve('test/support/hold-at-open.cjs');

describe('builds at the same time on one state folder', () => {
  it("keep each other's layer cache rows: each config's next build packs nothing", async () => {
    const dir = await tempDir('gl-concurrent-cache-');
    const held = await tempDir('gl-held-');
    await writeTree(path.join(dir, 'engine'), { 'bin/server': { mode: 0o755, content: prng('engine', 64 * 1024) } });
    await writeTree(path.join(dir, 'engine-media'), { 'shaders/a.glsl': 'void main(){}\n' });
    await writeStudioGames(dir, [{ name: 'game-a' }, { name: 'game-b' }], 32 * 1024);

    // Both builds held once they opened the layer cache (none there yet), then let go together: each then saves
    // rows the other never read.
    const env = { GL_TEST_HOLD_AT_OPEN: JSON.stringify({ target: String.raw`[/\\]cache[/\\]layers\.json$`, dir: held }) };
    const runs = ['game-a', 'game-b'].map((game) => startCli(['-c', `${game}.yaml`, 'build', '--tag', 'v1', '--json'], { cwd: dir, env, nodeArgs: ['--require', HOLD] }));
    const ended: CliResult[] = [];
    for (const run of runs) void run.result.then((r) => ended.push(r));
    while ((await readdir(held)).length < 2) {
      expect(ended.map((r) => r.stderr)).toEqual([]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await writeFile(path.join(held, 'go'), '');
    for (const r of await Promise.all(runs.map((run) => run.result))) expect(r.code, r.stderr).toBe(0);

    for (const game of ['game-a', 'game-b']) {
      const r = await runCli(['-c', `${game}.yaml`, 'build', '--tag', 'v2', '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect([game, (JSON.parse(r.stdout) as { summary: { built: number } }).summary.built]).toEqual([game, 0]);
    }
  }, 120_000);
});
