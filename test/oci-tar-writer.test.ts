// The layer writer packs entries itself (no stream per entry): its bytes must stay exactly tar-stream's, and
// its small-file fast path must check content as strictly as the streaming path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { dirContentSource } from '../src/oci/content.js';
import { layerTar, packEntries, SMALL_FILE, type PackEntry, type TarHeader } from '../src/oci/tar.js';
import { xxhashApi, hex64 } from '../src/scan/hash.js';
import type { FileEntry } from '../src/types.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'oci-tar-writer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(r: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What tar-stream's own pack writes for the same entries (bodies as bytes). */
async function reference(entries: { header: TarHeader; body?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out = collect(pack);
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      const header = { ...e.header } as Parameters<tar.Pack['entry']>[0];
      if (e.body) pack.entry(header, e.body, done);
      else pack.entry(header, done);
    });
  }
  pack.finalize();
  return out;
}

describe('packEntries writes what tar-stream writes', () => {
  const mtime = new Date(1_234_567_890_000);
  const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
  const cases: { header: TarHeader; body?: Buffer }[] = [
    { header: { name: 'opt', type: 'directory', mode: 0o755, mtime, uid: 0, gid: 0, uname: '', gname: '' } },
    { header: { name: 'opt/zero-mode-dir', type: 'directory', mode: 0, mtime } },
    { header: { name: 'opt/empty', type: 'file', mode: 0o644, mtime, size: 0 }, body: Buffer.alloc(0) },
    { header: { name: 'opt/one', type: 'file', mode: 0o600, mtime, size: 1 }, body: bytes(1, 1) },
    { header: { name: 'opt/block', type: 'file', mode: 0o644, mtime, size: 512 }, body: bytes(512, 2) },
    { header: { name: 'opt/odd', type: 'file', mode: 0o755, mtime, size: 70_001 }, body: bytes(70_001, 3) },
    { header: { name: 'opt/big', type: 'file', mode: 0o644, mtime, size: 1_500_000 }, body: bytes(1_500_000, 4) },
    { header: { name: `opt/${'d'.repeat(90)}/${'f'.repeat(90)}`, type: 'file', mode: 0o644, mtime, size: 3 }, body: bytes(3, 5) },
    { header: { name: `opt/${'x'.repeat(120)}`, type: 'file', mode: 0o644, mtime, size: 4 }, body: bytes(4, 6) },
    { header: { name: 'opt/naïve-é', type: 'file', mode: 0o644, mtime, size: 2 }, body: bytes(2, 7) },
    { header: { name: 'opt/link', type: 'symlink', mode: 0o777, mtime, linkname: 'one' } },
    { header: { name: 'opt/far-link', type: 'symlink', mode: 0o777, mtime, linkname: `../${'t'.repeat(120)}` } },
    { header: { name: 'opt/paxed', type: 'file', mode: 0o644, mtime, size: 5, pax: { size: '5' } }, body: bytes(5, 8) },
    { header: { name: 'opt/owned', type: 'file', mode: 0o644, mtime, size: 2, uid: 1000, gid: 1000, uname: 'game', gname: 'game' }, body: bytes(2, 9) },
  ];

  it('for every header shape (ustar, prefix split, PAX, defaults) and body size', async () => {
    const ours = await collect(packEntries(cases.map((c): PackEntry => ({ header: c.header, ...(c.body ? { body: c.body } : {}) }))));
    expect(ours.equals(await reference(cases))).toBe(true);
  });

  it('for bodies given as streams and read in place', async () => {
    const asStreams = cases.map((c): PackEntry => {
      if (!c.body) return { header: c.header };
      const body = c.body;
      // Odd-sized pieces cross the writer's output chunks at awkward places.
      if (body.length % 2) return { header: c.header, body: () => Readable.from([body.subarray(0, 7), body.subarray(7)]) };
      return { header: c.header, body: { readInto: (buf: Buffer, off: number) => void body.copy(buf, off) } };
    });
    const ours = await collect(packEntries(asStreams));
    expect(ours.equals(await reference(cases))).toBe(true);
  });

  it('fails the stream when a stream body is shorter than its header says', async () => {
    const short = packEntries([{ header: { name: 'f', type: 'file', size: 10 }, body: () => Readable.from([Buffer.from('abc')]) }]);
    await expect(collect(short)).rejects.toThrow(/f: Size mismatch \(3 of 10 bytes\)/);
  });
});

describe('the small-file fast path checks content like the streaming path', () => {
  async function entryOf(root: string, name: string, content: Buffer): Promise<FileEntry> {
    writeFileSync(path.join(root, name), content);
    const api = await xxhashApi();
    return { path: name, type: 'file', mode: 0o644, size: content.length, xxh64: hex64(api.h64Raw(content)) };
  }

  it('reads small and large files to the same tar as streams, and fails on a removed or changed file', async () => {
    const root = mkdtempSync(path.join(tmp, 'src-'));
    const small = await entryOf(root, 'small', Buffer.from('small body'));
    const large = await entryOf(root, 'large', Buffer.alloc(SMALL_FILE + 1, 7));
    const layer = { entries: [small, large] };
    const source = dirContentSource(root);
    const streamsOnly = { open: source.open.bind(source) };
    const fast = await collect(layerTar(layer, source, { mount: '/m', mtime: 0 }));
    expect(fast.equals(await collect(layerTar(layer, streamsOnly, { mount: '/m', mtime: 0 })))).toBe(true);

    writeFileSync(path.join(root, 'small'), 'small bodx');
    await expect(collect(layerTar(layer, source, { mount: '/m', mtime: 0 }))).rejects.toMatchObject({
      code: 'content.changed',
      message: expect.stringMatching(/small: changed since it was scanned: its content hashes to xxh64/),
    });
    rmSync(path.join(root, 'small'));
    await expect(collect(layerTar(layer, source, { mount: '/m', mtime: 0 }))).rejects.toMatchObject({
      code: 'content.changed',
      message: expect.stringMatching(/small: changed since it was scanned: it was removed/),
    });
  });
});
