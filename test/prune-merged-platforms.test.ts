// A game of two platforms built on two hosts and merged (`build --platform P --push`, then `gamelayer index`) leaves
// three build records in the repository: one per platform build and the merged one, whose indexes (`1.0`,
// `1.0-<tree>`) list the platform builds' images. `prune --keep 1` kept the merged build and one platform build and
// deleted the other platform build's images by digest: the kept indexes then named manifests that were gone, and
// nodes of that platform could not pull the release prune had kept. A manifest a kept index lists now stays, and a
// merged platform build is a part of its merged build, not one of the N newest (--keep 5 kept under two releases).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storageProblems, storedManifests, storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-prune-merged-');
  await writeTinyGame(dir, ['game: merged', 'version: 1.0.0', 'start: [/opt/local/engine/run]', 'platforms: [linux/amd64, linux/arm64]'], {
    source: (t) => (t === 'engine' || t === 'app' ? `{linux/amd64: ${t}, linux/arm64: ${t}}` : t),
  });
});

const INDEX = 'application/vnd.oci.image.index.v1+json';

async function children(name: string, tag: string): Promise<string[]> {
  const r = await fetch(`${registry.url}/v2/${name}/manifests/${tag}`, { headers: { accept: INDEX } });
  expect(r.status, `${name}:${tag}`).toBe(200);
  return ((await r.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
}

describe('prune of a repository holding platform builds and their merge', () => {
  it('never deletes a manifest a kept index lists', async () => {
    const name = 'studio/merged';
    const repo = `${registry.host}/${name}`;
    for (const p of ['linux/amd64', 'linux/arm64']) {
      const b = await runCli(['build', '--platform', p, '--push', repo, '--line', 'main'], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    }
    const merged = await runCli(['index', repo, '--line', 'main'], { cwd: dir });
    expect(merged.code, merged.stderr).toBe(0);
    const listed = (await Promise.all(['1.0.0', '1.0.0-engine', '1.0.0-engine-media', '1.0.0-app', '1.0.0-app-media'].map((t) => children(name, t)))).flat();
    expect(listed.length).toBe(10);

    const r = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // The platform builds are parts of the merged one, not builds of their own for --keep: they go, their images stay.
    expect(r.stdout).toMatch(/^kept 1 build: 1\.0\.0\ndeleted 2 builds: 1\.0\.0-linux-(amd|arm)64, 1\.0\.0-linux-(amd|arm)64 \(/);
    const stored = await storedManifests(registry.storageDir, name);
    expect(listed.filter((d) => !stored.includes(d))).toEqual([]);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    // The merged build still reads whole.
    const inspect = await runCli(['inspect', `${repo}:1.0.0`], { cwd: dir });
    expect(inspect.code, inspect.stderr).toBe(0);

    // The removed platform build's tags stay (distribution cannot take them off alone): left for the release that
    // lists their images, never "no build record here claims", whose advice (delete by hand) would break it.
    const again = await runCli(['prune', repo, '--keep', '1'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^left 10 tags whose image a kept build or a tag no build claims still names \(1\.0\.0-linux-amd64, /m);
    expect(again.stdout).not.toContain('no build record here claims');

    // The next release: 1.0.0 goes, and with it every platform manifest its indexes listed, their tags too.
    await writeFile(path.join(dir, 'app/f.txt'), 'app 1.1\n');
    for (const p of ['linux/amd64', 'linux/arm64']) {
      const b = await runCli(['build', '--tag', '1.1.0', '--platform', p, '--push', repo, '--line', 'main'], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    }
    expect((await runCli(['index', repo, '--tag', '1.1.0', '--line', 'main'], { cwd: dir })).code).toBe(0);
    const next = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout, next.stdout).not.toContain('no build record here claims');
    // What changed (the app tree, so the server images) went with its tags; the unchanged trees' images are
    // 1.1.0's too, and their 1.0.0 tags stay beside 1.1.0's (left, as the output says).
    const all = Object.keys(await storedTags(registry.storageDir, name)).filter((t) => t.startsWith('1.0.0'));
    // Each build whose tags stay has prune's note of them (prune-left-notes.ts): what lets a later prune delete them.
    expect(all.filter((t) => t.endsWith('.gamelayer-left')).sort()).toEqual(['1.0.0-linux-amd64.gamelayer-left', '1.0.0-linux-arm64.gamelayer-left', '1.0.0.gamelayer-left']);
    const tags = all.filter((t) => !t.endsWith('.gamelayer-left'));
    expect(tags.filter((t) => t === '1.0.0' || t.endsWith('-app') || /-linux-(amd|arm)64$/.test(t))).toEqual([]);
    expect(tags.length).toBe(9);
    const now = await storedManifests(registry.storageDir, name);
    const release = (await Promise.all(['1.1.0', '1.1.0-engine', '1.1.0-engine-media', '1.1.0-app', '1.1.0-app-media'].map((t) => children(name, t)))).flat();
    expect(release.filter((d) => !now.includes(d))).toEqual([]);
    expect(listed.filter((d) => release.includes(d)).length).toBe(6);
    expect(listed.filter((d) => now.includes(d)).sort()).toEqual(listed.filter((d) => release.includes(d)).sort());
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });
});
