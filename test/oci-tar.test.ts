import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveContentSource, dirContentSource, type ContentSource } from '../src/oci/content.js';
import { closeGzipWorkers } from '../src/oci/gzip.js';
import { buildLayer } from '../src/oci/layer.js';
import { OciStore } from '../src/oci/store.js';
import { layerTar, sourceDateEpoch } from '../src/oci/tar.js';
import type { FileEntry, PlannedLayer } from '../src/types.js';
import { LONG_DIR, scanEntries, writeGameTree } from './support/oci-fixtures.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'oci-tar-'));
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await closeGzipWorkers();
});

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function plan(entries: FileEntry[]): PlannedLayer {
  return { tree: 'app', index: 0, entries, inputKey: 'sha256:test', bytes: entries.reduce((n, e) => n + e.size, 0) };
}

interface Member {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  linkname: string | null;
  pax: unknown;
  body: Buffer;
}

async function members(bytes: Buffer): Promise<Member[]> {
  const out: Member[] = [];
  const ex = tar.extract();
  Readable.from([bytes]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const e of ex) {
    const h = e.header;
    const body: Buffer[] = [];
    for await (const c of e) body.push(c as Buffer);
    out.push({ ...h, mtime: h.mtime.getTime() / 1000, linkname: h.linkname ?? null, pax: h.pax, body: Buffer.concat(body) } as Member);
  }
  return out;
}

describe('layer tar', () => {
  it('is byte-identical for the same content in different directories, umasks and mtimes', async () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'somewhere', 'else', 'b');
    writeGameTree(a, 0o022, 1_600_000_000);
    writeGameTree(b, 0o077, 1_700_000_123);
    const ea = await scanEntries(a);
    const eb = await scanEntries(b);
    expect(eb).toEqual(ea);
    const ta = await collect(layerTar(plan(ea), dirContentSource(a), { mount: '/opt/local/app', mtime: 0 }));
    const tb = await collect(layerTar(plan(eb), dirContentSource(b), { mount: '/opt/local/app/', mtime: 0 }));
    expect(tb.equals(ta)).toBe(true);

    // And whole layers (tar + gzip + blob) land under the same digest in two separate stores.
    const la = await buildLayer(plan(ea), { content: dirContentSource(a), mount: '/opt/local/app', store: await OciStore.open(path.join(tmp, 'sa')) });
    const lb = await buildLayer(plan(eb), { content: dirContentSource(b), mount: '/opt/local/app', store: await OciStore.open(path.join(tmp, 'sb')), compression: { kind: 'gzip', threads: 1 } });
    expect(lb).toEqual(la);
    expect(la.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(la.diffID).toBe(`sha256:${execFileSync('sha256sum', { input: ta }).toString().slice(0, 64)}`);
  });

  it('writes sorted, parent-first, owner-free entries under the mount path', async () => {
    const root = path.join(tmp, 'c');
    writeGameTree(root, 0o002, 1_650_000_000);
    const entries = await scanEntries(root);
    const bytes = await collect(layerTar(plan(entries), dirContentSource(root), { mount: '/opt/local/app', mtime: 1_234_567_890 }));
    const ms = await members(bytes);
    const names = ms.map((m) => m.name.replace(/\/$/, ''));
    expect(names.slice(0, 3)).toEqual(['opt', 'opt/local', 'opt/local/app']);
    expect(names).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    for (const [i, n] of names.entries()) {
      const parent = n.slice(0, n.lastIndexOf('/'));
      if (parent) expect(names.indexOf(parent)).toBeLessThan(i);
    }
    for (const m of ms) {
      expect([m.uid, m.gid, m.uname, m.gname, m.mtime]).toEqual([0, 0, '', '', 1_234_567_890]);
    }
    const byName = new Map(ms.map((m) => [m.name.replace(/\/$/, ''), m]));
    expect(byName.get('opt/local/app/bin/server')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(byName.get('opt/local/app/config/game.cfg')).toMatchObject({ type: 'file', mode: 0o644 });
    expect(byName.get('opt/local/app/logs')).toMatchObject({ type: 'directory', mode: 0o755 });
    expect(byName.get('opt/local/app/start')).toMatchObject({ type: 'symlink', linkname: 'bin/server' });
    expect(byName.get('opt/local/app/config/intro-link')).toMatchObject({ type: 'symlink', linkname: '../media/intro.txt' });
    expect(byName.get('opt/local/app/media/assets.pak')!.body.equals(readFileSync(path.join(root, 'media/assets.pak')))).toBe(true);
    expect(byName.get('opt/local/app/config/héros-ünïcode.cfg')!.body.toString()).toBe('name=hero\n');
    const long = [...byName.keys()].find((k) => k.startsWith(`opt/local/app/${LONG_DIR}/level-`))!;
    expect(long.length).toBeGreaterThan(100);
    // GNU tar (an independent reader) lists the same names and link targets.
    const listed = execFileSync('tar', ['-tvf', '-'], { input: bytes }).toString();
    expect(listed).toContain(long);
    expect(listed).toContain('opt/local/app/start -> bin/server');
    expect(listed).toMatch(/-rwxr-xr-x 0\/0 +27 2009-02-13 \d\d:\d\d opt\/local\/app\/bin\/server/);
  });

  it('uses PAX only where the ustar header cannot hold the entry', async () => {
    const root = path.join(tmp, 'd');
    writeGameTree(root, 0o022, 1);
    const bytes = await collect(layerTar(plan(await scanEntries(root)), dirContentSource(root), { mount: '/x', mtime: 0 }));
    const paxCount = (bytes.toString('latin1').match(/\d+ path=/g) ?? []).length;
    // The non-ASCII name and the >100/155-byte path need PAX; everything else is plain ustar.
    expect(paxCount).toBe(2);

    // A file of 8 GiB needs a PAX size record: stream only the headers from a source of zeros.
    const huge: FileEntry = { path: 'huge.bin', type: 'file', mode: 0o644, size: 8 * 2 ** 30, xxh64: '0000000000000000' };
    const zeros: ContentSource = {
      open: async () =>
        Readable.from(
          (function* () {
            for (;;) yield Buffer.alloc(1 << 16);
          })(),
        ),
    };
    const stream = layerTar(plan([huge]), zeros, { mount: '/', mtime: 0 });
    let head = Buffer.alloc(0);
    for await (const c of stream) {
      head = Buffer.concat([head, c as Buffer]);
      if (head.length >= 2048) break;
    }
    stream.destroy();
    expect(head.toString('latin1')).toContain(`size=${8 * 2 ** 30}\n`);
  });

  it('takes the mtime from SOURCE_DATE_EPOCH and rejects a malformed one', () => {
    expect(sourceDateEpoch({})).toBe(0);
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' })).toBe(1_700_000_000);
    expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: '2023-01-01' })).toThrow(/SOURCE_DATE_EPOCH="2023-01-01"/);
  });

  it('fails, leaving no blob, when a file changed after the scan', async () => {
    const root = path.join(tmp, 'e');
    writeGameTree(root, 0o022, 1);
    const entries = await scanEntries(root);
    const store = await OciStore.open(path.join(tmp, 'se'));
    // Same size, different bytes: only the hash can tell.
    const cfg = path.join(root, 'config/game.cfg');
    const text = readFileSync(cfg, 'utf8');
    writeFileSync(cfg, text.replace('max_players=64', 'max_players=65'));
    await expect(buildLayer(plan(entries), { content: dirContentSource(root), mount: '/a', store })).rejects.toThrow(/game\.cfg: changed since it was scanned: its content hashes to xxh64 [0-9a-f]{16}, not [0-9a-f]{16}/);
    writeFileSync(cfg, `${text}more`);
    await expect(buildLayer(plan(entries), { content: dirContentSource(root), mount: '/a', store })).rejects.toThrow(/game\.cfg: changed since it was scanned: its size is \d+ bytes instead of/);
    expect(readdirSync(path.join(store.dir, 'blobs/sha256'))).toEqual([]);
    expect(readdirSync(path.join(store.dir, '.tmp'))).toEqual([]);
  });

  it('serves an archive tree from a content-addressed cache, giving the same tar as the directory', async () => {
    const root = path.join(tmp, 'f');
    writeGameTree(root, 0o022, 1);
    const entries = await scanEntries(root);
    const fromDir = await collect(layerTar(plan(entries), dirContentSource(root), { mount: '/m', mtime: 0 }));
    for (const [flag, compression] of [['-czf', 'gzip'], ['-cf', 'none']] as const) {
      const archive = path.join(tmp, `f.${compression}.tar`);
      execFileSync('tar', [flag, archive, '-C', root, '.']);
      // The scan stage reads the archive to the same entries as the directory.
      expect(await scanEntries(archive)).toEqual(entries);
      const cacheDir = path.join(tmp, `cache-${compression}`);
      const source = await archiveContentSource({ kind: 'archive', path: archive, compression }, { cacheDir, entries });
      const fromArchive = await collect(layerTar(plan(entries), source, { mount: '/m', mtime: 0 }));
      expect(fromArchive.equals(fromDir)).toBe(true);
      const hashes = entries.filter((e) => e.type === 'file').map((e) => e.xxh64!);
      expect(readdirSync(cacheDir).sort()).toEqual([...new Set(hashes)].sort());
    }
    // An archive that no longer holds what was scanned is an error naming the file.
    const other = path.join(tmp, 'other.tar');
    execFileSync('tar', ['-cf', other, '-C', root, './bin']);
    await expect(
      archiveContentSource({ kind: 'archive', path: other, compression: 'none' }, { cacheDir: path.join(tmp, 'cache-x'), entries }),
    ).rejects.toThrow(/other\.tar: changed since it was scanned: it does not hold .* as scanned/);
  });
});
