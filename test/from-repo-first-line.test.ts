// `build --from REPO` for a line with no build in REPO yet (a pull-request check into a branch just cut, a folder
// that is no git checkout: line "default") planned every tree afresh, while `build --push REPO` and
// `diff --against REPO` ("compared with line main's newest build, which its first build plans on") take the newest
// build of another line. The PR check's layer table then said every layer was new. It plans as --push does now.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-from-first-line-');
  await writeGame(dir);
});

describe('build --from REPO on a line REPO has no build of', () => {
  it('plans on the newest build of another line and says so, as build --push does', async () => {
    const repo = `${registry.host}/studio/from-first`;
    const v1 = await runCli(['build', '--tag', 'v1', '--push', repo, '--line', 'main'], { cwd: dir });
    expect(v1.code, v1.stderr).toBe(0);
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true }); // the PR check's fresh host
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="pr"/>\n');
    const r = await runCli(['build', '--tag', 'pr-1', '--from', repo, '--line', 'release-2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: line release-2 has no build in ${repo} yet: planned on line main's newest build (${repo}:gamelayer-line.main, built `);
    expect(r.stdout).toContain(`previous build: ${repo}:gamelayer-line.main (line main's newest: line release-2 has none yet), built `);
    // Only the changed tree is built; the others are v1's layers, kept in the registry.
    expect(r.stdout).toMatch(/^layers: 1 built, 3 reused;/m);
    // What diff --against said the first build would do.
    const diff = await runCli(['diff', '--against', repo, '--line', 'release-2'], { cwd: dir });
    expect(diff.stderr).toContain("compared with line main's newest build, which its first build plans on");
  });
});
