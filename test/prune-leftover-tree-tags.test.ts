// On a registry that deletes by digest only (CNCF distribution), prune leaves a removed build's tree tag (v1-engine)
// whose image a kept build also tags (v2-engine: the engine did not change). The next prune took that tag for one "no
// build record here claims" and kept its image for good, with advice to delete it by hand (a DELETE by digest would
// have taken the kept build's engine with it). So once every build on that engine was pruned, the engine image and
// its layers never left the repository. Such a tag now keeps nothing: its image goes with the last build naming it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storageProblems, storedManifests, storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-prune-leftover-');
  await writeGame(dir);
});

async function buildPush(repo: string, tag: string, edit: { file: string; text: string }): Promise<void> {
  await writeFile(path.join(dir, edit.file), edit.text);
  const r = await runCli(['build', '--tag', tag, '--push', repo, '--line', 'main'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

async function prune(repo: string, ...flags: string[]): Promise<string> {
  const r = await runCli(['prune', repo, '--keep', '1', ...flags], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('prune of tree tags an earlier prune left', () => {
  it('reports them as left while a kept build names their image, and deletes that image with its last build', async () => {
    const repo = `${registry.host}/studio/leftover`;
    const name = 'studio/leftover';
    await buildPush(repo, 'v1', { file: 'app/game.xml', text: '<game v="1"/>\n' });
    await buildPush(repo, 'v2', { file: 'app/game.xml', text: '<game v="2"/>\n' });
    const engineV1 = (await storedTags(registry.storageDir, name))['v1-engine']!;
    expect((await storedTags(registry.storageDir, name))['v2-engine']).toBe(engineV1);

    // v1 goes; its engine image is v2's too, and distribution cannot take the tag v1-engine off it alone.
    expect(await prune(repo, '--apply')).toContain('left 3 tags whose image a kept build or a tag no build claims still names (v1-app-media, v1-engine, v1-engine-media)');
    expect(Object.keys(await storedTags(registry.storageDir, name))).toContain('v1-engine');

    // The next prune: the same tags, left for the same reason, never "no build record here claims".
    const again = await prune(repo);
    expect(again).toContain('left 3 tags whose image a kept build or a tag no build claims still names (v1-app-media, v1-engine, v1-engine-media)');
    expect(again).not.toContain('no build record here claims');

    // Two engine upgrades: v2's engine image is no kept build's any more.
    await buildPush(repo, 'v3', { file: 'engine/start.sh', text: '#!/bin/sh\necho start 3\n' });
    await buildPush(repo, 'v4', { file: 'engine/start.sh', text: '#!/bin/sh\necho start 4\n' });
    const out = await prune(repo, '--apply');
    expect(out).toContain('kept 1 build: v4');
    expect(out).not.toContain('no build record here claims');
    // v1-engine went with its image; v1-engine-media stays beside v4's (engine media never changed).
    expect(out).not.toMatch(/v1-engine[,)]/);
    expect(out).toContain('left 8 tags whose image a kept build or a tag no build claims still names (v1-app-media, v1-engine-media, v2-app, v2-app-media, v2-engine-media, v3-app, v3-app-media, v3-engine-media)');

    // The old engine image is gone, with every tag that named it; what v4 uses is all there.
    expect(await storedManifests(registry.storageDir, name)).not.toContain(engineV1);
    const left = await storedTags(registry.storageDir, name);
    expect(Object.keys(left).filter((t) => t === 'v1-engine' || t === 'v2-engine' || t === 'v3-engine')).toEqual([]);
    expect(Object.keys(left)).toEqual(expect.arrayContaining(['v4', 'v4-engine', 'v4-engine-media', 'v4-app', 'v4-app-media', 'v4.gamelayer-record']));
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const ls = await runCli(['ls', repo], { cwd: dir });
    expect(ls.code, ls.stderr).toBe(0);
  });
});
