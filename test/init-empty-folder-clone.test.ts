// `gamelayer init` points trees the build has nothing for at an empty folder, gamelayer-empty, which it creates. git
// keeps no empty folder, so a fresh clone of a repository holding the config (a CI host) lacks it, and the build
// failed with "gamelayer-empty does not exist" and the hint "check the path in gamelayer.yaml" — the path was right.
// The hint now says what the folder is and how to have it.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('the empty folder of init on a fresh clone', () => {
  it('a build without it names the folder, why it is gone and the mkdir that makes it', async () => {
    const dir = await tempDir('gl-init-clone-');
    await mkdir(path.join(dir, 'engine'));
    await mkdir(path.join(dir, 'app'));
    await writeFile(path.join(dir, 'engine/server'), 'x\n', { mode: 0o755 });
    await writeFile(path.join(dir, 'app/game.cfg'), 'y\n');
    const init = await runCli(['init', '--game', 'clone'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    await rm(path.join(dir, 'gamelayer-empty'), { recursive: true }); // what a git clone gives
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    const empty = path.join(dir, 'gamelayer-empty');
    expect(r.stderr).toContain(`error[scan.source-missing]: ${path.join(dir, 'gamelayer.yaml')}:`);
    expect(r.stderr).toContain(`trees.engine-media.source: ${empty} does not exist`);
    expect(r.stderr).toContain(`hint: gamelayer-empty is the empty folder gamelayer init made for trees the build has nothing for, and git keeps no empty folder (a fresh clone lacks it): create it before the build (mkdir -p ${empty})`);
    // Another missing source keeps the general hint.
    await mkdir(empty);
    await rm(path.join(dir, 'app'), { recursive: true });
    const other = await runCli(['build'], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("hint: check the path in gamelayer.yaml (relative paths start at the yaml's folder)");
  });
});
