// Two configs beside each other share the state folder (.gamelayer/records) but may name other stores (`store:`).
// `ls` of one counted every record of the folder: "5 tags, 2 builds" for a store holding one build's five images.
// It now counts and lists the builds whose images are in the store it lists.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('ls of a store whose state folder another store shares', () => {
  it('counts only the builds in the store listed', async () => {
    const dir = await tempDir('gl-ls-shared-');
    await writeTinyGame(dir, ['game: shared-state', 'start: [/opt/local/engine/run]']);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'second.yaml'), yaml.replace('game: shared-state\n', 'game: shared-state\nstore: second-store\n'));
    for (const args of [['build', '--tag', 'a1'], ['-c', 'second.yaml', 'build', '--tag', 'b1']]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    const second = await runCli(['-c', 'second.yaml', 'ls'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`5 tags, 1 build in ${path.join(dir, 'second-store')}\n`);
    const first = await runCli(['ls', '--json'], { cwd: dir });
    expect(JSON.parse(first.stdout).builds.map((b: { tag: string }) => b.tag)).toEqual(['a1']);
  }, 60_000);
});
