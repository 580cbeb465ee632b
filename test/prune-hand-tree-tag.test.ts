// A tag put by hand that only looks like a tree tag (`release-engine`, a team's name for the engine it ships) was taken
// by prune for a tree tag an earlier prune had left (`<build>-<tree>` of a build with no record): it kept nothing, and
// its image was deleted with the last build naming it. Prune now deletes a left tag only when it can prove it left
// it (its `<build>.gamelayer-left` note names the tag and its image); a tag put by hand keeps its image.
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
  dir = await tempDir('gl-prune-hand-tree-tag-');
  await writeGame(dir);
});

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function buildPush(repo: string, tag: string, edit: { file: string; text: string }): Promise<void> {
  await writeFile(path.join(dir, edit.file), edit.text);
  const r = await runCli(['build', '--tag', tag, '--push', repo], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

describe('prune and a tag put by hand shaped like a tree tag', () => {
  it('keeps the tag and its image, while it still deletes the tree tags it left itself', async () => {
    const repo = `${registry.host}/studio/hand`;
    const name = 'studio/hand';
    await buildPush(repo, 'v1', { file: 'app/game.xml', text: '<game v="1"/>\n' });
    await buildPush(repo, 'v2', { file: 'app/game.xml', text: '<game v="2"/>\n' });
    // `release-engine` put by hand on the engine image v1 and v2 share.
    const got = await fetch(`${registry.url}/v2/${name}/manifests/v2-engine`, { headers: { accept: MANIFEST } });
    const engine = got.headers.get('docker-content-digest')!;
    const put = await fetch(`${registry.url}/v2/${name}/manifests/release-engine`, { method: 'PUT', headers: { 'content-type': MANIFEST }, body: Buffer.from(await got.arrayBuffer()) });
    expect(put.status).toBe(201);

    // v1 goes; its tree tags stay beside v2's (distribution cannot remove one tag of several).
    const first = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('left 3 tags whose image a kept build or a tag no build claims still names (v1-app-media, v1-engine, v1-engine-media)');

    // Two engine upgrades: no build keeps the old engine image; only the tag put by hand names it.
    await buildPush(repo, 'v3', { file: 'engine/start.sh', text: '#!/bin/sh\necho start 3\n' });
    await buildPush(repo, 'v4', { file: 'engine/start.sh', text: '#!/bin/sh\necho start 4\n' });
    const r = await runCli(['prune', repo, '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { deleted: { digest: string; tags: string[] }[]; unclaimed: string[]; left: string[] };
    expect(result.deleted.flatMap((d) => d.tags)).not.toContain('release-engine');
    expect(result.unclaimed).toContain('release-engine');
    const tags = await storedTags(registry.storageDir, name);
    expect(tags['release-engine']).toBe(engine);
    expect(await storedManifests(registry.storageDir, name)).toContain(engine);
    // The engine image stays for the tag put by hand: v1's and v2's tags on it stay, as left.
    expect(result.left).toEqual(expect.arrayContaining(['v1-engine', 'v2-engine']));
    // What prune left itself, it wrote down, for the prune that deletes it with its image.
    expect(Object.keys(tags).filter((t) => t.endsWith('.gamelayer-left')).sort()).toEqual(['v1.gamelayer-left', 'v2.gamelayer-left', 'v3.gamelayer-left']);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });

  it('deletes its note with the last of the tags it names', async () => {
    const repo = `${registry.host}/studio/notes`;
    const name = 'studio/notes';
    const game = await tempDir('gl-prune-notes-');
    await writeGame(game);
    const push = async (tag: string, text: string) => {
      for (const f of ['engine/start.sh', 'engine-media/shaders/a.glsl', 'app/game.xml', 'app-media/paks/a.pak']) await writeFile(path.join(game, f), `${f} ${text}\n`);
      const r = await runCli(['build', '--tag', tag, '--push', repo], { cwd: game });
      expect(r.code, r.stderr).toBe(0);
    };
    await push('v1', 'one');
    // v2 changes the app only: v1's other tree tags are left beside v2's, and noted.
    await writeFile(path.join(game, 'app/game.xml'), '<game v="2"/>\n');
    const r2 = await runCli(['build', '--tag', 'v2', '--push', repo], { cwd: game });
    expect(r2.code, r2.stderr).toBe(0);
    expect((await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: game })).code).toBe(0);
    expect(Object.keys(await storedTags(registry.storageDir, name))).toContain('v1.gamelayer-left');
    // ls names the note for what it is, not an image a node could run.
    const listed = await runCli(['ls', repo], { cwd: game });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^v1\.gamelayer-left +prune's note of v1's left tags /m);

    // v3 changes every tree: v2 goes, and with its images the tags v1 left; nothing is left, so no note stays.
    await push('v3', 'three');
    const r = await runCli(['prune', repo, '--keep', '1', '--apply', '--json'], { cwd: game });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { left: string[]; notes: { written: string[]; deleted: string[] } };
    expect(result.left).toEqual([]);
    expect(result.notes).toEqual({ written: [], deleted: ['v1.gamelayer-left'] });
    expect(Object.keys(await storedTags(registry.storageDir, name)).filter((t) => !t.startsWith('v3')).sort()).toEqual(['gamelayer-line.default']);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });
});
