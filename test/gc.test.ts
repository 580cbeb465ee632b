// gamelayer gc on a real store: patch builds keep needing their first build's layers, a dry run changes nothing,
// bytes freed are the bytes that left, and a gc waits for a build that holds the store.
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { holdStoreForBuild } from '../src/oci/store-holds.js';
import { OciStore } from '../src/oci/store.js';
import { startCli, runCli, sleep } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { listFilesUnder, recordProblems, storeProblems } from './support/verify-state.js';

async function game(): Promise<string> {
  const dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  return dir;
}

async function build(dir: string, ...args: string[]): Promise<void> {
  const r = await runCli(['build', ...args], { cwd: dir });
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
}

async function blobBytes(store: string): Promise<Map<string, number>> {
  const dir = path.join(store, 'blobs', 'sha256');
  const out = new Map<string, number>();
  for (const n of await readdir(dir)) out.set(`sha256:${n}`, (await stat(path.join(dir, n))).size);
  return out;
}

describe('gamelayer gc', () => {
  it('keeps the newest builds and what their records need, removes the rest, reports the bytes freed', async () => {
    const dir = await game();
    const store = path.join(dir, '.gamelayer/oci');
    await build(dir, '--tag', 'v1');
    await writeFile(path.join(dir, 'app-media/levels/a.dat'), Buffer.alloc(20_000, 1));
    await build(dir, '--tag', 'v2'); // v1's layers + a patch
    await writeFile(path.join(dir, 'app-media/levels/b.dat'), Buffer.alloc(30_000, 2));
    await build(dir, '--tag', 'v3', '--rebase'); // planned afresh: new layers of its own
    await writeFile(path.join(dir, 'app/config/server.cfg'), 'port=4242\n');
    await build(dir, '--tag', 'v4'); // v3's layers + a patch

    const before = await blobBytes(store);
    const dry = await runCli(['gc', '--keep', '1', '--json', '--exit-code'], { cwd: dir });
    expect(dry.code).toBe(3); // something to remove
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ applied: false, keptBuilds: ['v4'], removedBuilds: ['v3', 'v2', 'v1'] });
    expect(plan.removedTags).toHaveLength(15);
    expect(await blobBytes(store)).toEqual(before); // a dry run removes nothing

    const v4 = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v4.json'), 'utf8'));
    const v1 = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8'));
    const r = await runCli(['gc', '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const done = JSON.parse(r.stdout);
    const after = await blobBytes(store);
    // Bytes freed are exactly the bytes of the blobs that left, and something left.
    const gone = [...before.keys()].filter((d) => !after.has(d));
    expect(gone.length).toBeGreaterThan(0);
    expect(done.bytesFreed).toBe(gone.reduce((s, d) => s + before.get(d)!, 0));
    expect(done.blobs.map((b: { digest: string }) => b.digest).sort()).toEqual(gone.sort());
    // v4 is a patch on v3: every layer its record names (v3's included) is still there; v1's own layers are not.
    for (const l of v4.layers) expect(after.has(l.digest)).toBe(true);
    expect(v1.layers.some((l: { digest: string }) => !after.has(l.digest))).toBe(true);
    expect(await storeProblems(store)).toEqual([]);
    expect(await recordProblems(path.join(dir, '.gamelayer'), store)).toEqual([]);
    expect((await readdir(path.join(dir, '.gamelayer/records'))).filter((n) => n.startsWith('build-')).sort()).toEqual(['build-last.json', 'build-v4.json']);
    const tags = JSON.parse((await runCli(['ls', '--json'], { cwd: dir })).stdout).tags.map((t: { tag: string }) => t.tag);
    expect(tags.sort()).toEqual(['v4', 'v4-app', 'v4-app-media', 'v4-engine', 'v4-engine-media']);

    // The next build still patches on v4 (its layers are all there): only the new file's patch is built.
    await writeFile(path.join(dir, 'app-media/levels/c.dat'), Buffer.alloc(5000, 3));
    const next = JSON.parse((await runCli(['build', '--tag', 'v5', '--json'], { cwd: dir })).stdout);
    const fresh = next.summary.layers.filter((l: { reused: boolean }) => !l.reused);
    expect(fresh.map((l: { tree: string }) => l.tree)).toEqual(['app-media']);
    expect(fresh[0].files).toBe(1); // a patch holding c.dat alone
    expect(await storeProblems(store)).toEqual([]);

    // Nothing more to do: exit 0 with --exit-code.
    expect((await runCli(['gc', '--keep', '2', '--exit-code'], { cwd: dir })).code).toBe(0);
    const bad = await runCli(['gc', '--keep', '0'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error[cli.keep]: --keep 0: expected a whole number of builds, at least 1\n');
  }, 240_000);

  it('removes the state cache files of the blobs it removes, and keeps those of the blobs it keeps', async () => {
    const dir = await game();
    const store = path.join(dir, '.gamelayer/oci');
    await build(dir, '--tag', 'v1');
    await writeFile(path.join(dir, 'app-media/levels/a.dat'), Buffer.alloc(20_000, 1));
    await build(dir, '--tag', 'v2', '--rebase'); // new layers of its own: v1's go with v1
    await build(dir, '--tag', 'v2b'); // a no-op: reused layers are hashed once and marked
    const markers = path.join(dir, '.gamelayer/cache/verified-blobs');
    const lists = path.join(dir, '.gamelayer/cache/layer-files');
    const before = await blobBytes(store);
    // The SBOM's per-layer file lists are keyed the same way; one for every blob the store holds now.
    await mkdir(lists, { recursive: true });
    for (const d of before.keys()) await writeFile(path.join(lists, `${d.replace(':', '-')}.json`), '{}');
    const done = JSON.parse((await runCli(['gc', '--keep', '1', '--apply', '--json'], { cwd: dir })).stdout);
    const after = await blobBytes(store);
    const gone = [...before.keys()].filter((d) => !after.has(d));
    expect(gone.length).toBeGreaterThan(0);
    const markerDigests = (await readdir(markers)).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
    const listDigests = (await readdir(lists)).map((n) => n.replace(/^sha256-/, 'sha256:').replace(/\.json$/, ''));
    expect(markerDigests.length).toBeGreaterThan(0);
    for (const d of [...markerDigests, ...listDigests]) expect(after.has(d)).toBe(true);
    expect(listDigests.sort()).toEqual([...after.keys()].sort()); // the kept blobs' lists stay
    expect(done.cacheFiles).toBeGreaterThanOrEqual(gone.length); // at least each gone blob's file list
  }, 240_000);

  it('waits while a build holds the store, and keeps what that build tagged', async () => {
    const dir = await game();
    await build(dir, '--tag', 'v1');
    await build(dir, '--tag', 'v2');
    const storeDir = path.join(dir, '.gamelayer/oci');
    const release = await holdStoreForBuild(storeDir);
    const gc = startCli(['gc', '--keep', '1', '--apply', '--json'], { cwd: dir });
    let exited = false;
    void gc.result.then(() => (exited = true));
    // gc has taken its lock and now waits for the build's hold to go.
    while (!(await listFilesUnder(path.join(storeDir, '.holds'))).includes('gc')) await sleep(20);
    // Meanwhile "the build" writes a new blob and tags it.
    const store = await OciStore.open(storeDir);
    const wip = await store.putJson('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}', 'application/vnd.oci.image.manifest.v1+json');
    await store.putBlob(Readable.from([Buffer.from('{}')]));
    await store.tag('work-in-progress', wip);
    expect(exited).toBe(false);
    expect((await blobBytes(storeDir)).size).toBeGreaterThan(0);
    await release();
    const r = await gc.result;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).keptBuilds).toEqual(['v2']);
    expect(await store.resolve('work-in-progress')).toMatchObject({ digest: wip.digest });
    expect(await store.hasBlob(wip.digest)).toBe(true);
    expect(await storeProblems(storeDir)).toEqual([]);
  }, 120_000);
});
