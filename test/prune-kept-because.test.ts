// `prune --keep 1` that kept two builds said only "kept 2 builds: v2, f1": the second was kept as the newest build of
// another line (its next build --push plans on it), or by --tag / --keep-deployed, and the output did not say which.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-prune-because-');
  await writeGame(dir);
});

describe('prune says why a build beyond --keep is kept', () => {
  it('names the line whose newest build it is, and --tag', async () => {
    const repo = `${registry.host}/studio/because`;
    for (const [tag, line] of [['v1', 'main'], ['f1', 'feature'], ['v2', 'main']] as const) {
      await writeFile(path.join(dir, 'app/game.xml'), `<game v="${tag}"/>\n`);
      const b = await runCli(['build', '--tag', tag, '--push', repo, '--line', line], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    }
    const dry = await runCli(['prune', repo, '--keep', '1'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('kept 2 builds: v2, f1 (newest of line feature)\nwould delete 1 build: v1');
    const named = await runCli(['prune', repo, '--keep', '1', '--tag', 'v1', '--json'], { cwd: dir });
    expect(named.code, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout).keptBecause).toEqual({ f1: 'newest of line feature', v1: '--tag' });
  });
});
