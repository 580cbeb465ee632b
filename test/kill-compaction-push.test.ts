// kill -9 of `build --push` on a compaction update (day 2 rewrites most of one old layer: the plan rewrites it
// beside the day's patch, docs/compaction.md) at several points: once the first new blob is renamed into the local store,
// after the first new blob reached the registry, after the first manifest, before the build record, before the
// line's tag. After each: the registry stores no manifest with a missing blob, the local store and records are
// consistent, and the next `build --push` completes with the image digests of an uninterrupted run, uploading no
// blob the registry already had.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { runCliKilledAtRename, type RenamePoint } from './support/kill-at-rename.js';
import { runCliKilledAtRequest, type RequestPoint } from './support/kill-at-request.js';
import { changeKillGame, writeKillGame } from './support/kill-game.js';
import { startRegistry, storageProblems, storedBlobs, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { recordProblems, storeProblems } from './support/verify-state.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let root: string;
let template: string;
/** The uninterrupted day 2: image digests by name, and the image tags it left. */
let reference: { images: Record<string, string>; tags: Record<string, string>; newBlobs: number };

const store = (p: string) => path.join(p, '.gamelayer/oci');
const blobCount = async (p: string) => (existsSync(path.join(store(p), 'blobs/sha256')) ? (await readdir(path.join(store(p), 'blobs/sha256'))).length : 0);

interface BuildOut {
  images: { name: string; digest: string }[];
  summary: { trees: { tree: string; decision: string; reason?: string }[] };
}

async function push(p: string, dest: string, tag: string): Promise<BuildOut> {
  const r = await runCli(['build', '--tag', tag, '--push', dest, '--json'], { cwd: p });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BuildOut;
}

/** Blobs linked into `repo` in the registry's storage. */
const linkedBlobs = (repo: string) => storedBlobs(registry.storageDir, repo);

const imageTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([t]) => t.startsWith('v2') && !t.endsWith('.gamelayer-record')));

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.host);
  root = await tempDir('gl-kill-compaction-');
  template = path.join(root, 'template');
  await writeKillGame(template);
  const v1 = await runCli(['build', '--tag', 'v1'], { cwd: template });
  expect(v1.code, v1.stderr).toBe(0);
  const ref = path.join(root, 'reference');
  execFileSync('cp', ['-a', template, ref]);
  await push(ref, `${proxy.host}/studio/reference`, 'v1');
  await changeKillGame(ref, 2);
  await registry.resetAccessLog();
  const out = await push(ref, `${proxy.host}/studio/reference`, 'v2');
  // Day 2 is a compaction update: an old app-media layer is rewritten, not only patched.
  expect(out.summary.trees.find((t) => t.tree === 'app-media')).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/^rewrote layer/) });
  const tags = await storedTags(registry.storageDir, 'studio/reference');
  reference = { images: Object.fromEntries(out.images.map((i) => [i.name, i.digest])), tags: imageTags(tags), newBlobs: (await registry.uploadedBlobs('studio/reference')).length };
  expect(reference.newBlobs).toBeGreaterThanOrEqual(4); // two layers, two image configs at least
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

describe('kill -9 during build --push of a compaction update', () => {
  // A push point's kill lands in the fault proxy, as the request arrives (never passed on); the local point at the
  // rename that places the day's first new blob, counted in the CLI (kill-at-rename.ts): no poll can miss either.
  const manifestPut = (repo: string, tag = '[^/]+') => ({ method: 'PUT', path: new RegExp(`^/v2/${repo}/manifests/${tag.replace('.', '\\.')}$`) });
  const points: { name: string; at?: (repo: string) => RequestPoint; local?: RenamePoint }[] = [
    { name: 'once the first new blob is renamed into the local store', local: { target: /\/\.gamelayer\/oci\/blobs\/sha256\/[0-9a-f]{64}$/, at: 'done' } },
    { name: 'after the first new blob upload', at: (r) => ({ method: 'PUT', path: new RegExp(`^/v2/${r}/blobs/uploads/`), nth: 2, at: 'arrived' }) },
    { name: 'after the first manifest', at: (r) => ({ ...manifestPut(r), nth: 2, at: 'arrived' }) },
    { name: 'before the build record', at: (r) => ({ ...manifestPut(r, 'v2.gamelayer-record'), at: 'arrived' }) },
    { name: "before the line's tag", at: (r) => ({ ...manifestPut(r, 'gamelayer-line.default'), at: 'arrived' }) },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const point = points[i]!;
    const repo = `studio/kill-${i}`;
    const dest = `${proxy.host}/${repo}`;
    const p = path.join(root, `point-${i}`);
    execFileSync('cp', ['-a', template, p]);
    await push(p, dest, 'v1');
    const v1Tags = await storedTags(registry.storageDir, repo);
    await changeKillGame(p, 2);

    const args = ['build', '--tag', 'v2', '--push', dest];
    const blobsBefore = await blobCount(p);
    const linkedBefore = await linkedBlobs(repo);
    // An upload the killed run had in flight may still complete at the registry: its blob and its log line must both
    // land before `had` and the log's reset below (runCliKilledAtRequest waits for it; under load one landed between
    // them and counted as sent again).
    const outcome = point.at ? await runCliKilledAtRequest(proxy, point.at(repo), args, { cwd: p }) : await runCliKilledAtRename(args, point.local!, { cwd: p });
    expect(outcome.killed, outcome.killed ? '' : `ended before the kill: ${JSON.stringify(outcome)}`).toBe(true);
    // The local point: one new blob in the store, the others still being written, nothing pushed yet.
    if (point.local) {
      expect(await blobCount(p)).toBe(blobsBefore + 1);
      expect(await linkedBlobs(repo)).toEqual(linkedBefore);
    }

    expect(await storageProblems(registry.storageDir)).toEqual([]);
    expect(await storeProblems(store(p))).toEqual([]);
    expect(await recordProblems(path.join(p, '.gamelayer'), store(p))).toEqual([]);
    const mid = await storedTags(registry.storageDir, repo);
    // The line's tag still names day 1's record: the next run plans on it again.
    expect(mid['gamelayer-line.default']).toBe(v1Tags['gamelayer-line.default']);
    if (i >= 3) expect(imageTags(mid)).toEqual(reference.tags);
    if (i === 3) expect(mid['v2.gamelayer-record']).toBeUndefined();
    const had = new Set(await linkedBlobs(repo));

    await registry.resetAccessLog();
    const next = await push(p, dest, 'v2');
    expect(Object.fromEntries(next.images.map((x) => [x.name, x.digest]))).toEqual(reference.images);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const tags = await storedTags(registry.storageDir, repo);
    expect(imageTags(tags)).toEqual(reference.tags);
    expect(tags['gamelayer-line.default']).toBe(tags['v2.gamelayer-record']);
    // Nothing the registry already had went up again, nothing twice.
    const sent = await registry.uploadedBlobs(repo);
    expect(sent.filter((d) => had.has(d))).toEqual([]);
    expect(new Set(sent).size).toBe(sent.length);
    // What the killed run completed is not sent again: from the manifests on, every blob was there.
    if (i >= 1) expect(sent.length).toBeLessThan(reference.newBlobs);
    if (i >= 3) expect(sent).toEqual([]);
    expect(await storeProblems(store(p))).toEqual([]);
    expect(await recordProblems(path.join(p, '.gamelayer'), store(p))).toEqual([]);
  });
});
