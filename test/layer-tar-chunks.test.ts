// Issue 17, memory: a gzip layer is written from the tar writer's reused chunks. The gzip stream copies each chunk
// into the block it fills before the next chunk is made, so a layer of 1M entries (512 MiB of headers) no longer
// makes and drops a 1 MiB buffer per MiB of tar (freed only by a later GC, into a malloc heap that keeps the pages).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { dirContentSource } from '../src/oci/content.js';
import { closeGzipWorkers, createDigestingGzip } from '../src/oci/gzip.js';
import { buildLayer } from '../src/oci/layer.js';
import { OciStore } from '../src/oci/store.js';
import { layerTar } from '../src/oci/tar.js';
import type { FileEntry, PlannedLayer } from '../src/types.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gl-tar-chunks-'));
afterAll(async () => {
  await closeGzipWorkers();
  rmSync(tmp, { recursive: true, force: true });
});

/** 24k symlinks in 24 folders: 12 MB of tar headers, no file to read. */
function linksLayer(): PlannedLayer {
  const entries: FileEntry[] = [];
  for (let d = 0; d < 24; d++) {
    entries.push({ path: `d${d}`, type: 'dir', mode: 0o755, size: 0 });
    for (let i = 0; i < 1000; i++) entries.push({ path: `d${d}/l${String(i).padStart(4, '0')}`, type: 'symlink', mode: 0o777, size: 0, linkTarget: `../t${i}` });
  }
  return { tree: 'app-media', index: 0, entries, inputKey: 'sha256:0', bytes: 0 };
}

describe('gzip layer from reused tar chunks', () => {
  it('makes no 1 MiB buffer per MiB of tar, and the same blob as the tar stream through the gzip stream', async () => {
    const layer = linksLayer();
    const store = await OciStore.open(path.join(tmp, 'store'));
    const alloc = Buffer.alloc;
    let big = 0;
    Buffer.alloc = ((size: number, ...rest: Parameters<typeof Buffer.alloc> extends [number, ...infer R] ? R : never) => {
      if (size >= 1 << 20) big++;
      return alloc(size, ...rest);
    }) as typeof Buffer.alloc;
    let built;
    try {
      built = await buildLayer(layer, { content: dirContentSource(tmp), mount: '/opt/local/app-media', store, mtime: 0 });
    } finally {
      Buffer.alloc = alloc;
    }
    // The writer's chunk and its two spares (the tar is 12 MB: a chunk per MiB was 12).
    expect(big).toBeLessThanOrEqual(3);
    // The same bytes as the tar stream piped through the gzip stream (the way layers were written before).
    const gzip = createDigestingGzip();
    const sha = createHash('sha256');
    let size = 0;
    await pipeline(
      layerTar(layer, dirContentSource(tmp), { mount: '/opt/local/app-media', mtime: 0 }),
      gzip,
      new Writable({ write: (c: Buffer, _e, cb) => ((size += c.length), sha.update(c), cb()) }),
    );
    expect(built.digest).toBe(`sha256:${sha.digest('hex')}`);
    expect(built.size).toBe(size);
    expect(built.diffID).toBe(gzip.input!.digest);
    expect(gzip.input!.bytes).toBeGreaterThan(12_000_000);
  }, 60_000);
});
