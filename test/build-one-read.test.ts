// One read per file on a cold build (docs/architecture.md "One read per file"): the scan leaves the files the stat
// cache misses to the layer writer, which hashes the very bytes it packs. The record's hash of each file must be the
// hash of its bytes in the layer, equal to what a scan alone finds; layers, manifests and stat cache the same as
// when the scan hashes; a file that changes between the walk and its packing is refused, naming it.
import { execFileSync } from 'node:child_process';
import { appendFile, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { loadConfig } from '../src/config/load.js';
import { dirContentSource } from '../src/oci/content.js';
import { buildLayer } from '../src/oci/layer.js';
import { packHashingSource } from '../src/oci/pack-hash.js';
import { OciStore } from '../src/oci/store.js';
import { build } from '../src/pipeline/build.js';
import { scanGame, scanTree } from '../src/scan/scan.js';
import type { PlannedLayer, TreeManifest } from '../src/types.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const ALL = { include: ['**'], exclude: [] };

/** A copy of the sample game with a big file (read piece by piece), a file of exactly 256 KiB and an empty one. */
async function game(dir: string): Promise<string> {
  const root = path.join(dir, 'game');
  copySample(root);
  await writeFile(path.join(root, 'app-media', 'big.pak'), Buffer.alloc(3 << 20, 7).fill(9, 1 << 20));
  await writeFile(path.join(root, 'app-media', 'edge.pak'), Buffer.alloc(256 << 10, 3));
  await writeFile(path.join(root, 'app', 'empty.cfg'), '');
  // Old enough for the stat cache's racy rule: both scans then keep every file.
  execFileSync('find', [root, '-type', 'f', '-exec', 'touch', '-d', '1 hour ago', '{}', '+']);
  return root;
}

/** xxh64 of every file in a layer blob (gzip), by its path under the mount. */
async function layerHashes(blob: string, mount: string): Promise<Map<string, string>> {
  const x = await xxhash();
  const out = new Map<string, string>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (d: unknown) => void parts.push(d as Buffer));
      stream.on('end', () => {
        if (h.type === 'file') out.set(h.name.slice(mount.length), x.h64Raw(Buffer.concat(parts)).toString(16).padStart(16, '0'));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([await readFile(blob)]).pipe(createGunzip()).pipe(extract);
  await done;
  return out;
}

describe('build: one read per file', () => {
  it('a cold build hashes in the layer writer: the record holds what a separate scan finds, and what the layers hold', async () => {
    const dir = await tempDir();
    const root = await game(dir);
    const config = await loadConfig(path.join(root, 'gamelayer.yaml'));
    const result = await build({ config });
    // The scan read no file of a directory tree: every hash came from the layer writer.
    const dirs = result.scans.filter((s) => s.manifest.source.kind === 'dir');
    expect(dirs.length).toBeGreaterThanOrEqual(3);
    for (const s of dirs) expect(s.stats.hashedFiles).toBe(0);
    expect(dirs.every((s) => s.stats.files > 0)).toBe(true);

    // A scan alone (another state folder, so nothing cached) finds the same entries and digests.
    const alone = await scanGame({ ...config, stateDir: path.join(dir, 'state-alone') });
    const byTree = (ms: readonly TreeManifest[]) => Object.fromEntries(ms.map((m) => [m.tree, { entries: m.entries, digest: m.digest }]));
    expect(byTree(result.record.manifests)).toEqual(byTree(alone.trees.map((t) => t.manifest)));
    expect(result.record.manifests.some((m) => m.entries.some((e) => e.path === 'big.pak'))).toBe(true);

    // Each file's recorded hash is the hash of its bytes in the layer that holds it.
    const recorded = new Map<string, string>();
    for (const m of result.record.manifests) for (const e of m.entries) if (e.type === 'file') recorded.set(`${config.trees[m.tree].mount.replace(/^\//, '')}/${e.path}`, e.xxh64!);
    let checked = 0;
    for (const l of result.record.layers) {
      for (const [name, hash] of await layerHashes(path.join(result.store, 'blobs/sha256', l.digest.slice(7)), '')) {
        if (!recorded.has(name)) continue; // the tree markers
        expect(hash, name).toBe(recorded.get(name));
        checked++;
      }
    }
    expect(checked).toBe(recorded.size);

    // The stat cache was saved by the layer writer: a rescan reads no file.
    const again = (await scanGame(config)).trees.filter((t) => t.manifest.source.kind === 'dir');
    for (const t of again) expect(t.stats.hashedFiles).toBe(0);
    expect(again.reduce((n, t) => n + t.stats.cacheHits, 0)).toBe(again.reduce((n, t) => n + t.stats.files, 0));

    // A cold build of another copy whose layer cache holds zstd layers (so the scan hashes, and every gzip layer is
    // built from hashes known before): the same images.
    const dir2 = await tempDir();
    const root2 = await game(dir2);
    const config2 = await loadConfig(path.join(root2, 'gamelayer.yaml'));
    await build({ config: config2, tag: 'warmup', compression: 'zstd' });
    await rm(path.join(config2.stateDir, 'records'), { recursive: true });
    await rm(path.join(config2.stateDir, 'cache', 'stat'), { recursive: true });
    const hashed = await build({ config: config2 });
    for (const s of hashed.scans.filter((x) => x.manifest.source.kind === 'dir')) expect(s.stats.hashedFiles).toBe(s.stats.files);
    expect(hashed.summary.reused).toBe(0);
    expect(hashed.record.images).toEqual(result.record.images);
    expect(hashed.record.layers).toEqual(result.record.layers);
    expect(byTree(hashed.record.manifests)).toEqual(byTree(result.record.manifests));
  });

  it('gives the same layers, manifest and stat cache as a scan that hashes, with zstd too', async () => {
    const dir = await tempDir();
    const root = path.join(await game(dir), 'app-media');
    const scanned = await scanTree('app-media', root, ALL, { stateDir: path.join(dir, 's1') });
    const deferred = await scanTree('app-media', root, ALL, { stateDir: path.join(dir, 's2'), packHashes: () => true });
    expect(deferred.pending?.count).toBe(scanned.stats.files);
    expect(deferred.manifest.entries.filter((e) => e.type === 'file').every((e) => e.xxh64!.startsWith('~'))).toBe(true);
    const store = await OciStore.open(path.join(dir, 'store'));
    const layer = (m: TreeManifest): PlannedLayer => ({ tree: 'app-media', index: 0, entries: m.entries, inputKey: 'sha256:test', bytes: 0 });
    for (const compression of [{ kind: 'gzip' as const }, { kind: 'zstd' as const }]) {
      const fresh = await scanTree('app-media', root, ALL, { stateDir: path.join(dir, `s-${compression.kind}`), packHashes: () => true });
      const a = await buildLayer(layer(scanned.manifest), { content: dirContentSource(root), mount: '/m', store, compression });
      const b = await buildLayer(layer(fresh.manifest), { content: packHashingSource(dirContentSource(root), root, fresh.pending!), mount: '/m', store, compression });
      expect(b).toEqual(a);
      await fresh.pending!.finish();
      expect(fresh.manifest).toEqual(scanned.manifest);
    }
    // The stat cache the layer writer filled is the one the scan writes, byte for byte.
    await deferred.pending!.finish();
    const cacheOf = async (s: string) => {
      const d = path.join(dir, s, 'cache', 'stat');
      return readFile(path.join(d, (await readdir(d))[0]!), 'utf8');
    };
    expect(await cacheOf('s2')).toBe(await cacheOf('s1'));
  });

  it('refuses a file that changed between the walk and its packing, naming it, and leaves no blob', async () => {
    const dir = await tempDir();
    const root = path.join(await game(dir), 'app-media');
    const store = await OciStore.open(path.join(dir, 'store'));
    const attempt = async (change: () => Promise<void>) => {
      const s = await scanTree('app-media', root, ALL, { stateDir: path.join(dir, 'state'), packHashes: () => true });
      await change();
      const layer: PlannedLayer = { tree: 'app-media', index: 0, entries: s.manifest.entries, inputKey: 'sha256:test', bytes: 0 };
      return buildLayer(layer, { content: packHashingSource(dirContentSource(root), root, s.pending!), mount: '/m', store });
    };
    const big = path.join(root, 'big.pak');
    const small = path.join(root, 'edge.pak');
    // Same size, other bytes: its times moved.
    await expect(attempt(() => writeFile(small, Buffer.alloc(256 << 10, 4)))).rejects.toThrow(`${small}: changed since it was scanned: it was modified while the build ran`);
    await expect(attempt(() => writeFile(big, Buffer.alloc(3 << 20, 1)))).rejects.toThrow(`${big}: changed since it was scanned: it was modified while the build ran`);
    await expect(attempt(() => appendFile(big, 'x'))).rejects.toThrow(`${big}: changed since it was scanned: its size is ${(3 << 20) + 1} bytes instead of ${3 << 20}`);
    await expect(attempt(() => rm(small))).rejects.toThrow(`${small}: changed since it was scanned: it was removed`);
    await expect(
      attempt(async () => {
        await rm(big);
        await symlink('edge.pak', big);
      }),
    ).rejects.toThrow(`${big}: changed since it was scanned: it is a symlink now`);
    expect(await readdir(path.join(store.dir, 'blobs/sha256'))).toEqual([]);
    expect(await readdir(path.join(store.dir, '.tmp'))).toEqual([]);
  });

  it('a build refuses a file changed after the scan, naming it, and records nothing', async () => {
    const dir = await tempDir();
    const root = await game(dir);
    const config = await loadConfig(path.join(root, 'gamelayer.yaml'));
    const changed = path.join(root, 'app-media', 'big.pak');
    // The layers step starts: the scan has seen the file, the layer writer has not read it yet.
    const reporter = {
      info() {},
      warn() {},
      task(name: string) {
        if (name.startsWith('build ')) execFileSync('sh', ['-c', `printf y | dd of='${changed}' bs=1 seek=5 conv=notrunc status=none`]);
        return { tick() {}, done() {} };
      },
    };
    await expect(build({ config, reporter })).rejects.toThrow(`${changed}: changed since it was scanned: it was modified while the build ran`);
    await expect(readdir(path.join(config.stateDir, 'records'))).rejects.toThrow(/ENOENT/);
  });

  it('hashes in the scan when there is a previous build to plan on: an edit is a patch layer, hashed before the plan', async () => {
    const dir = await tempDir();
    const root = await game(dir);
    const config = await loadConfig(path.join(root, 'gamelayer.yaml'));
    await build({ config });
    await writeFile(path.join(root, 'app-media', 'edge.pak'), Buffer.alloc(256 << 10, 5));
    const next = await build({ config });
    const media = next.scans.find((x) => x.manifest.tree === 'app-media')!;
    expect(media.pending).toBeUndefined();
    expect(media.stats.hashedFiles).toBe(1);
    expect(next.summary.layers.some((l) => l.patch && l.layer.tree === 'app-media')).toBe(true);
    const alone = await scanTree('app-media', path.join(root, 'app-media'), ALL, { stateDir: path.join(dir, 'state-alone') });
    expect(next.record.manifests.find((m) => m.tree === 'app-media')!.digest).toBe(alone.manifest.digest);
  });
});
