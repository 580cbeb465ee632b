// A zstd layer's tar is written straight into the feed's shared slots (layerTarChunks with a ChunkPool): no copy of
// every byte into a slot. The bytes must be the tar's, whatever the border between two chunks cuts (a small file,
// a header, padding), in chunks that are full (the feed cuts the tar at fixed offsets from them) and handed out
// as the pool gave them, which hold old bytes (headers and padding must be zeroed there).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirContentSource } from '../src/oci/content.js';
import { layerTar, layerTarChunks, type ChunkPool } from '../src/oci/tar.js';
import { noise, scanEntries } from './support/oci-fixtures.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'gl-tar-pool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A pool of `count` chunks of `bytes`, full of garbage, taken back only by the test (as the feed frees its slots). */
function pool(bytes: number, count: number): ChunkPool & { free: Buffer[]; own: Set<Buffer>; extra: number } {
  const own = Array.from({ length: count }, () => Buffer.alloc(bytes, 0xa5));
  return {
    bytes,
    free: [...own],
    own: new Set(own),
    extra: 0,
    take() {
      const b = this.free.pop();
      if (b) return b;
      this.extra++;
      return Buffer.alloc(bytes, 0x5a);
    },
  };
}

describe('tar chunks written into a pool', () => {
  it('gives the tar byte for byte, in full chunks of the pool, with small files and headers across the borders', async () => {
    const root = path.join(tmp, 'tree');
    mkdirSync(path.join(root, 'maps', `${'deep-folder-name-'.repeat(8)}x`), { recursive: true });
    const sizes = [0, 1, 511, 512, 513, 70_000, 100_000, 200_000, 262_144, 262_145, 300_000, 3 << 20];
    sizes.forEach((n, i) => writeFileSync(path.join(root, 'maps', `f${String(i).padStart(2, '0')}.bin`), noise(n, `f${i}`)));
    for (let i = 0; i < 40; i++) writeFileSync(path.join(root, `small${String(i).padStart(2, '0')}.txt`), noise(9000 + i * 1000, `s${i}`));
    writeFileSync(path.join(root, 'maps', `${'deep-folder-name-'.repeat(8)}x`, 'long-named-file.dat'), noise(5000, 'long'));
    symlinkSync('maps/f01.bin', path.join(root, 'link'));
    const entries = await scanEntries(root);
    const layer = { entries };
    const opts = { mount: '/opt/local/app', mtime: 0 };

    const want: Buffer[] = [];
    for await (const c of layerTar(layer, dirContentSource(root), opts)) want.push(c as Buffer);
    const expected = Buffer.concat(want);

    for (const bytes of [64 << 10, 1 << 20]) {
      // Eight: between two chunks handed out the writer may fill five (a 256 KiB file across chunks of 64 KiB).
      const p = pool(bytes, 8);
      const got: Buffer[] = [];
      let fromPool = 0;
      for await (const chunk of layerTarChunks(layer, dirContentSource(root), opts, p)) {
        got.push(Buffer.from(chunk)); // a copy: the chunk goes back to the pool (it is the consumer's now)
        const mine = [...p.own].find((b) => b.buffer === chunk.buffer);
        if (mine) {
          fromPool++;
          mine.fill(0xa5); // old bytes again before it is taken anew
          p.free.unshift(mine);
        }
      }
      expect(Buffer.concat(got).equals(expected), `chunks of ${bytes}`).toBe(true);
      expect(got.slice(0, -1).every((c) => c.length === bytes)).toBe(true);
      // Every chunk came from the pool: the writer never made one of its own while the pool had one free.
      expect(fromPool, `chunks of ${bytes}`).toBe(got.length);
      expect(p.extra).toBe(0);
    }
  }, 60_000);

  it('takes a new chunk when the pool has none free, still full and in order', async () => {
    const root = path.join(tmp, 'tree2');
    mkdirSync(root, { recursive: true });
    for (let i = 0; i < 30; i++) writeFileSync(path.join(root, `a${String(i).padStart(2, '0')}`), noise(50_000 + i * 3000, `a${i}`));
    const entries = await scanEntries(root);
    const want: Buffer[] = [];
    for await (const c of layerTar({ entries }, dirContentSource(root), { mount: '/x', mtime: 0 })) want.push(c as Buffer);
    const p = pool(128 << 10, 1); // one chunk, never given back
    const got: Buffer[] = [];
    for await (const chunk of layerTarChunks({ entries }, dirContentSource(root), { mount: '/x', mtime: 0 }, p)) got.push(Buffer.from(chunk));
    expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
    expect(got.slice(0, -1).every((c) => c.length === 128 << 10)).toBe(true);
    expect(p.extra).toBe(got.length - 1);
  }, 60_000);
});
