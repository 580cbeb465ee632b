// Two configs beside each other share the state folder (.gamelayer/records, .gamelayer/cache) but may name other
// stores (`store:`). `gc --apply` of one took every record of the folder for its own: it counted the other store's
// builds in --keep and removed their records ("no build a1" after), and the layer cache rows of their blobs (their
// next build packed its layers again). It now leaves the builds whose images are in another store, and says so.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('gc of a store whose state folder another store shares', () => {
  it("keeps the other store's builds: their records, and the caches their no-op rebuild needs", async () => {
    const dir = await tempDir('gl-gc-shared-');
    await writeTinyGame(dir, ['game: shared-state', 'start: [/opt/local/engine/run]']);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'second.yaml'), yaml.replace('game: shared-state\n', 'game: shared-state\nstore: second-store\n'));
    const cli = async (args: string[]) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    // a1 in the first store; b1 (the same layers) then b2 (another app tree) in the second.
    await cli(['build', '--tag', 'a1']);
    await cli(['-c', 'second.yaml', 'build', '--tag', 'b1']);
    await writeFile(path.join(dir, 'app', 'f.txt'), 'app two\n');
    await cli(['-c', 'second.yaml', 'build', '--tag', 'b2']);

    const gc = await cli(['-c', 'second.yaml', 'gc', '--keep', '1', '--apply']);
    expect(gc).toContain('kept 1 build: b2\n');
    expect(gc).toContain('removed 1 build: b1 (5 tags)\n');
    expect(gc).toContain('kept 1 record of builds in other stores: a1\n');

    expect(await cli(['ls'])).toContain(`5 tags, 1 build in ${path.join(dir, '.gamelayer', 'oci')}\n`);
    expect(await cli(['inspect', 'a1'])).toContain('build a1 of shared-state');
    // a1's sources again: its layers are all found in the layer cache, none packed again.
    await writeFile(path.join(dir, 'app', 'f.txt'), 'app\n');
    expect(await cli(['build', '--tag', 'a1'])).toMatch(/^layers: 0 built, 4 reused;/m);
  }, 90_000);
});
