// Builds an older gamelayer pushed under a tag ending in a tree suffix (`1.0-app`: build and push now refuse such
// tags, test/build-tag-clash.test.ts) share that tag with the app tree image of the build `1.0`. Whichever was pushed
// last holds it, and prune took it for a tag of both builds: removing one of them deleted the image the tag names,
// though the other, kept, build still used it (its app image, or its server image). A tag a kept build claims is
// never removed now. And build --push 1.0 moved the tag off the older build's server image: refused now.
import { cp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startRegistry();
  dir = await tempDir('gl-prune-tree-tag-');
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

const tagsDir = (repo: string) => path.join(registry.storageDir, 'docker/registry/v2/repositories', repo, '_manifests/tags');

/**
 * A build as an older gamelayer pushed it under `1.0-app`: built as `old` (on a line of its own), its tags then
 * renamed in the registry's storage (`old` → `1.0-app`, `old-engine` → `1.0-app-engine`, …), replacing any there,
 * and its line tag removed.
 */
async function olderBuild(repo: string): Promise<void> {
  const r = await runCli(['build', '--tag', 'old', '--line', 'old', '--push', `${registry.host}/${repo}`], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  for (const t of Object.keys(await storedTags(registry.storageDir, repo)).filter((x) => x === 'old' || x.startsWith('old-') || x.startsWith('old.'))) {
    const to = `1.0-app${t.slice(3)}`;
    await rm(path.join(tagsDir(repo), to), { recursive: true, force: true });
    await rename(path.join(tagsDir(repo), t), path.join(tagsDir(repo), to));
  }
  // Older versions had no line tags (it would keep the build beyond --keep).
  await rm(path.join(tagsDir(repo), 'gamelayer-line.old'), { recursive: true });
}

async function build(tag: string, repo: string): Promise<void> {
  const r = await runCli(['build', '--tag', tag, '--push', `${registry.host}/${repo}`], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

/** Every tag of `build`'s (`1.0` or `1.0-app`) still names a manifest the registry serves, whole. */
async function whole(repo: string, tags: string[], kept: Record<string, string>): Promise<void> {
  const now = await storedTags(registry.storageDir, repo);
  for (const t of tags) {
    expect(now[t], t).toBe(kept[t]);
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${t}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' } });
    expect(res.status, t).toBe(200);
  }
  expect(await storageProblems(registry.storageDir)).toEqual([]);
}

describe('prune with a build tagged like another build\'s tree image', () => {
  it('older 1.0-app, then build --push 1.0: refused before any write, 1.0-app keeps its server image', async () => {
    const repo = 'studio/tree-tag-a';
    await olderBuild(repo);
    const before = await storedTags(registry.storageDir, repo);
    await registry.resetAccessLog();
    const r = await runCli(['build', '--tag', '1.0', '--push', `${registry.host}/${repo}`], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[push.reserved-tag]: push of the build 1.0: its image tag 1.0-app is the image of the build 1.0-app in ${repo} (its record 1.0-app.gamelayer-record), which an older gamelayer pushed; this push would replace it`);
    expect((await registry.accessLog()).filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
    expect(await storedTags(registry.storageDir, repo)).toEqual(before);
  });

  it('1.0, then an older gamelayer\'s 1.0-app over its app tag: prune --keep 1 removes 1.0, 1.0-app keeps its server image', async () => {
    const repo = 'studio/tree-tag-b';
    await build('1.0', repo);
    await olderBuild(repo);
    await rm(path.join(tagsDir(repo), 'gamelayer-line.default'), { recursive: true }); // else 1.0 stays, its line's newest
    const before = await storedTags(registry.storageDir, repo);
    const r = await runCli(['prune', `${registry.host}/${repo}`, '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { kept: { tag: string }[]; removed: { tag: string }[] };
    expect([out.kept.map((b) => b.tag), out.removed.map((b) => b.tag)]).toEqual([['1.0-app'], ['1.0']]);
    await whole(repo, ['1.0-app', '1.0-app-engine', '1.0-app-engine-media', '1.0-app-app', '1.0-app-app-media', '1.0-app.gamelayer-record'], before);
    expect(Object.keys(await storedTags(registry.storageDir, repo))).not.toContain('1.0.gamelayer-record');
  });
});
