// A push reads each manifest and config of the local store once: the server image's were read twice (once before
// anything is sent, to fail early and to compare the record's index, then again to push the image). Counted as the
// whole-file reads of each blob (manifests and configs are read whole; layers stream and are not counted here), by
// readFile or through an opened descriptor.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { sampleGame } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';

const reads = vi.hoisted(() => new Map<string, number>());
const stats = vi.hoisted(() => new Map<string, number>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = ((file: unknown, ...rest: unknown[]) => {
    if (typeof file === 'string') reads.set(file, (reads.get(file) ?? 0) + 1);
    return (fs.readFile as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFile;
  const stat = ((file: unknown, ...rest: unknown[]) => {
    if (typeof file === 'string') stats.set(file, (stats.get(file) ?? 0) + 1);
    return (fs.stat as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.stat;
  // Small documents are read through an open descriptor (util/small-file.ts: a regular file only): an open is a read.
  const open = ((file: unknown, ...rest: unknown[]) => {
    if (typeof file === 'string') reads.set(file, (reads.get(file) ?? 0) + 1);
    return (fs.open as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.open;
  return { ...fs, readFile, stat, open, default: { ...fs, readFile, stat, open } };
});

const registry = useRegistry();

describe('push: the local store read once', () => {
  it('reads every manifest and config blob of the store at most once per push, the first and a no-op one', async () => {
    const { config } = await sampleGame();
    const r = await build({ config });
    const blobs = path.join(r.store, 'blobs/sha256');
    const repository = `${registry.host}/studio/reads`;
    for (const round of ['first', 'no-op']) {
      reads.clear();
      await pushBuild({ store: r.store, record: r.record, repository });
      const blobReads = [...reads].filter(([file]) => file.startsWith(blobs));
      // The server image and each tree image: a manifest and a config each.
      expect(blobReads.length, round).toBeGreaterThanOrEqual(2 * r.record.tags.length);
      expect(blobReads.filter(([, n]) => n > 1), round).toEqual([]);
    }
  });

  it('a no-op push reads each image of the store once: a layer is checked once per image that holds it', async () => {
    const { config } = await sampleGame();
    const r = await build({ config });
    const blobs = path.join(r.store, 'blobs/sha256');
    const repository = `${registry.host}/studio/looks`;
    await pushBuild({ store: r.store, record: r.record, repository });
    // How many of the build's images (server and trees) name each blob, as config or layer.
    const index = JSON.parse(await readFile(path.join(r.store, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    const holders = new Map<string, number>();
    const layers = new Set<string>();
    for (const tag of r.record.tags) {
      const top = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
      const m = JSON.parse(await readFile(path.join(blobs, top.digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
      for (const d of new Set([m.config.digest, ...m.layers.map((l) => l.digest)])) holders.set(d, (holders.get(d) ?? 0) + 1);
      for (const l of m.layers) layers.add(l.digest);
    }
    stats.clear();
    const again = await pushBuild({ store: r.store, record: r.record, repository });
    expect(again.images.every((i) => i.upToDate)).toBe(true);
    // Each layer's presence and size (a stat of its file) is checked by the push of each image that holds it; before,
    // every image was also read once more to learn which blobs the tree images add (none: their tags were in place).
    const looked = [...stats].filter(([file]) => file.startsWith(blobs)).map(([file, n]) => [`sha256:${path.basename(file)}`, n] as const).filter(([d]) => layers.has(d));
    expect(looked.map(([d]) => d).sort()).toEqual([...layers].sort());
    expect(looked.filter(([d, n]) => n > holders.get(d)!).map(([d, n]) => `${d.slice(0, 19)}: ${n} checks, ${holders.get(d)} images`)).toEqual([]);
  });
});
