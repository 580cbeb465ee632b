import { execFileSync } from 'node:child_process';
import { mkfifo } from './support/mkfifo.js';
import { appendFile, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { appendFileSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { hashFile } from '../src/scan/hash.js';
import { compareBytewise, entriesDigest } from '../src/scan/manifest.js';
import { scanTree } from '../src/scan/scan.js';
import { walkDir, type WalkedEntry } from '../src/scan/walk-dir.js';
import { writeCheckedJson } from '../src/util/checked-json.js';
import { tempDir } from './support/tmp.js';
import { ageFiles, writeTree } from './support/trees.js';

const ALL: { include: string[]; exclude: string[] } = { include: ['**'], exclude: [] };
const SPEC = {
  'bin/server': { mode: 0o755, content: Buffer.alloc(5000, 3) },
  'start.sh': { mode: 0o700, content: '#!/bin/sh\n' },
  'config/a.cfg': 'a=1\n',
  'config/current.cfg': { link: 'a.cfg' },
  'media/ü-ñame.pak': Buffer.alloc(2048, 9),
  'media/z/deep/x.bin': 'x',
};

async function scanDir(root: string, stateDir: string, filters = ALL, extra = {}) {
  return scanTree('app', root, filters, { stateDir, ...extra });
}

describe('scan: manifest', () => {
  it('is sorted bytewise with parents first, modes normalised, links kept', async () => {
    const dir = await tempDir();
    await writeTree(path.join(dir, 't'), SPEC);
    const { manifest } = await scanDir(path.join(dir, 't'), path.join(dir, 'state'));
    const paths = manifest.entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort((a, b) => compareBytewise(a, b)));
    expect(paths.indexOf('media')).toBeLessThan(paths.indexOf('media/z/deep/x.bin'));
    const byPath = Object.fromEntries(manifest.entries.map((e) => [e.path, e]));
    expect(byPath['start.sh']).toMatchObject({ type: 'file', mode: 0o755, size: 10 });
    expect(byPath['config/a.cfg']).toMatchObject({ type: 'file', mode: 0o644 });
    expect(byPath['config/current.cfg']).toEqual({ path: 'config/current.cfg', type: 'symlink', mode: 0o777, size: 0, linkTarget: 'a.cfg' });
    expect(byPath['media/z']).toMatchObject({ type: 'dir', mode: 0o755 });
    expect(byPath['bin/server']!.xxh64).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest.digest).toBe(entriesDigest(manifest.entries));
  });

  it('gives the same digest for the same content whatever the creation order, umask, mtimes or concurrency', async () => {
    const dir = await tempDir();
    await writeTree(path.join(dir, 'a'), SPEC);
    const reversed = Object.fromEntries(Object.entries(SPEC).reverse());
    const old = process.umask(0o077);
    try {
      await writeTree(path.join(dir, 'b'), reversed);
    } finally {
      process.umask(old);
    }
    await utimes(path.join(dir, 'b', 'config/a.cfg'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const a = await scanDir(path.join(dir, 'a'), path.join(dir, 'sa'), ALL, { concurrency: 1 });
    const b = await scanDir(path.join(dir, 'b'), path.join(dir, 'sb'), ALL, { concurrency: 16 });
    expect(b.manifest.entries).toEqual(a.manifest.entries);
    expect(b.manifest.digest).toBe(a.manifest.digest);
  });

  it('changes the digest when one byte, a mode or a link target changes', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, SPEC);
    const state = path.join(dir, 's');
    const d0 = (await scanDir(root, state)).manifest.digest;
    await writeFile(path.join(root, 'config/a.cfg'), 'a=2\n');
    const d1 = (await scanDir(root, state)).manifest.digest;
    execFileSync('chmod', ['+x', path.join(root, 'config/a.cfg')]);
    const d2 = (await scanDir(root, state)).manifest.digest;
    execFileSync('ln', ['-sfn', 'other.cfg', path.join(root, 'config/current.cfg')]);
    const d3 = (await scanDir(root, state)).manifest.digest;
    expect(new Set([d0, d1, d2, d3]).size).toBe(4);
  });

  it('applies include and exclude globs, and never follows symlinks out of the tree', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(path.join(dir, 'outside'), { 'secret.txt': 'no' });
    await writeTree(root, { ...SPEC, 'saves/slot1.sav': 'x', 'tmp/x.tmp': 'y', 'escape': { link: '../outside' } });
    const { manifest } = await scanDir(root, path.join(dir, 's'), { include: ['**'], exclude: ['saves/**', '**/*.tmp'] });
    const paths = manifest.entries.map((e) => e.path);
    expect(paths).not.toContain('saves/slot1.sav');
    expect(paths).not.toContain('tmp/x.tmp');
    expect(paths).toContain('escape');
    expect(paths.some((p) => p.includes('secret'))).toBe(false);
    const only = await scanDir(root, path.join(dir, 's2'), { include: ['media/**'], exclude: [] });
    expect(only.manifest.entries.map((e) => e.path)).toEqual(['media', 'media/z', 'media/z/deep', 'media/z/deep/x.bin', 'media/ü-ñame.pak']);
  });
});

describe('scan: walk', () => {
  it('lists the same entries with the default filters (no matching) as through the glob matcher', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, {
      ...SPEC,
      '.hidden/.env': 'x',
      'media/.dot.pak': 'y',
      'links/to-dir': { link: '../media' },
      'links/dangling': { link: 'nowhere/at/all' },
    });
    await mkdir(path.join(root, 'empty/inner'), { recursive: true });
    const shape = (entries: WalkedEntry[]) => entries.map((e) => `${e.type} ${e.path} ${e.size} ${e.linkTarget ?? ''}`).sort();
    const plain = await walkDir(root, ALL, 'app');
    // A second include pattern that adds nothing sends the walk through the glob matcher.
    const globbed = await walkDir(root, { include: ['**', 'media/**'], exclude: [] }, 'app');
    expect(shape(plain)).toEqual(shape(globbed));
    // Links are entries, never followed: nothing of media/ shows up under links/to-dir.
    expect(plain.map((e) => e.path)).toContain('links/to-dir');
    expect(plain.some((e) => e.path.startsWith('links/to-dir/'))).toBe(false);
    expect(plain.map((e) => e.path)).toEqual(expect.arrayContaining(['.hidden/.env', 'media/.dot.pak', 'empty/inner']));
  });
});

describe('scan: stat cache', () => {
  it('rescans an unchanged tree from stats alone: no file content is read', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    const big = { 'paks/a.pak': Buffer.alloc(24 << 20, 1), 'paks/b.pak': Buffer.alloc(24 << 20, 2) };
    await writeTree(root, { ...SPEC, ...big });
    await ageFiles(root, ['bin/server', 'start.sh', 'config/a.cfg', 'media/ü-ñame.pak', 'media/z/deep/x.bin', ...Object.keys(big)]);
    const state = path.join(dir, 's');
    // The kernel's count of bytes this process read (all threads), independent of our own counters.
    const bytesRead = async () => Number(/rchar: (\d+)/.exec(await readFile('/proc/self/io', 'utf8'))![1]);

    let before = await bytesRead();
    const first = await scanDir(root, state);
    const coldRead = (await bytesRead()) - before;
    expect(first.stats.hashedFiles).toBe(7);
    expect(coldRead).toBeGreaterThan(48 << 20); // control: reading the content shows up

    before = await bytesRead();
    const second = await scanDir(root, state);
    const warmRead = (await bytesRead()) - before;
    expect(second.manifest).toEqual(first.manifest);
    expect(second.stats).toMatchObject({ cacheHits: 7, hashedFiles: 0, hashedBytes: 0 });
    expect(warmRead).toBeLessThan(1 << 20); // only the cache file and directory listings
  });

  it('reads a cache of the earlier row format without rehashing, then writes the columnar one; a no-op rescan writes nothing', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, SPEC);
    await ageFiles(root, ['bin/server', 'start.sh', 'config/a.cfg', 'media/ü-ñame.pak', 'media/z/deep/x.bin']);
    const state = path.join(dir, 's');
    const first = await scanDir(root, state);
    const cacheFile = execFileSync('find', [path.join(state, 'cache', 'stat'), '-name', '*.json']).toString().trim();
    // The first rescan after hashing finds the cache in walk order: it writes nothing either.
    const hashedAt = (await stat(cacheFile)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect((await scanDir(root, state)).stats).toMatchObject({ cacheHits: 5, hashedFiles: 0 });
    expect((await stat(cacheFile)).mtimeMs).toBe(hashedAt);
    const columns = JSON.parse((await readFile(cacheFile, 'utf8')).split('\n')[1]!) as { paths: string[]; size: number[]; mtime: number[]; ctime: number[]; ino: number[]; xxh64: string };
    expect(columns.paths).toHaveLength(5);
    // The same cache as an earlier version wrote it: one [path, size, mtime, ctime, ino, xxh64] row per file.
    const rows = columns.paths.map((p, i) => [p, columns.size[i], columns.mtime[i], columns.ctime[i], columns.ino[i], columns.xxh64.slice(i * 16, i * 16 + 16)]);
    await writeCheckedJson(cacheFile, 'gamelayer-stat-cache/1', rows);

    const upgraded = await scanDir(root, state);
    expect(upgraded.manifest).toEqual(first.manifest);
    expect(upgraded.stats).toMatchObject({ cacheHits: 5, hashedFiles: 0 });
    expect((await readFile(cacheFile, 'utf8')).startsWith('{"format":"gamelayer-stat-cache/2"')).toBe(true);

    const written = (await stat(cacheFile)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const again = await scanDir(root, state);
    expect(again.stats).toMatchObject({ cacheHits: 5, hashedFiles: 0 });
    expect((await stat(cacheFile)).mtimeMs).toBe(written);
  });

  it('rehashes a file whose stat changed, and ignores a corrupt cache file', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, SPEC);
    await ageFiles(root, ['bin/server', 'start.sh', 'config/a.cfg', 'media/ü-ñame.pak', 'media/z/deep/x.bin']);
    const state = path.join(dir, 's');
    await scanDir(root, state);
    await writeFile(path.join(root, 'config/a.cfg'), 'b=2\n');
    const changed = await scanDir(root, state);
    expect(changed.stats).toMatchObject({ cacheHits: 4, hashedFiles: 1 });

    const cacheFile = execFileSync('find', [path.join(state, 'cache', 'stat'), '-name', '*.json']).toString().trim();
    const text = await readFile(cacheFile, 'utf8');
    // A plausible but wrong hash: a cache that trusted it would record the wrong content.
    await writeFile(cacheFile, text.replace(/"xxh64":"[0-9a-f]{16}/, '"xxh64":"0000000000000000'));
    const warnings: string[] = [];
    const reporter = { info() {}, warn: (m: string) => warnings.push(m), task: () => ({ tick() {}, done() {} }) };
    const after = await scanDir(root, state, ALL, { reporter });
    expect(after.manifest.digest).toBe(changed.manifest.digest);
    expect(after.stats).toMatchObject({ cacheHits: 0, hashedFiles: 5, cacheRejected: 'checksum mismatch (truncated or corrupt)' });
    expect(warnings).toEqual(['app: stat cache ignored (checksum mismatch (truncated or corrupt)); hashing every file again']);
  });
});

describe('scan: changes while hashing', () => {
  it('refuses to hash a file whose size or times moved since it was statted', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'f');
    await writeFile(file, 'abc');
    const before = await stat(file);
    await appendFile(file, 'd');
    await expect(hashFile(file, before)).rejects.toThrow(`${file}: the file changed while it was being hashed`);
  });

  it('fails the scan clearly when a file keeps changing, and writes no cache', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    // Big enough to be read in many chunks. The writer appends synchronously once per turn of the event loop the
    // scan's reads come back to, so it appends between every two of them however busy the cores are (a writer
    // process, or async appends through libuv's thread pool shared with the scan's reads, could be starved for a
    // whole attempt on a loaded machine, and the scan then passed).
    const size = 96 << 20;
    const big = path.join(root, 'big.pak');
    await writeTree(root, { 'big.pak': Buffer.alloc(size, 1) });
    let writing = true;
    const writer = (async () => {
      while (writing) {
        appendFileSync(big, 'x\n');
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      await expect(scanDir(root, path.join(dir, 's'), ALL, { attempts: 2 })).rejects.toThrow(`${big}: the file changed while it was being hashed`);
    } finally {
      writing = false;
      await writer;
    }
    await expect(stat(path.join(dir, 's', 'cache'))).rejects.toThrow(/ENOENT/);
  });
});

describe('scan: bad input', () => {
  it('names a missing source and its config field', async () => {
    const dir = await tempDir();
    await expect(scanDir(path.join(dir, 'nope'), dir)).rejects.toThrow(`trees.app.source: ${dir}/nope does not exist`);
  });

  it('rejects a source that is neither a directory nor an archive', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'notes.txt'), 'hello');
    await expect(scanDir(path.join(dir, 'notes.txt'), dir)).rejects.toThrow(
      `trees.app.source: ${dir}/notes.txt is neither a directory nor a .tar / .tar.gz archive`,
    );
  });

  it('rejects special files with their path', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, { 'a.cfg': 'x' });
    await mkfifo(path.join(root, 'pipe'));
    await expect(scanDir(root, dir)).rejects.toThrow(`app: ${root}/pipe is a FIFO (named pipe); a container layer cannot hold it`);
  });

  it('rejects names reserved for OCI whiteouts', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, { 'levels/.wh.old.pak': 'x' });
    await expect(scanDir(root, dir)).rejects.toThrow(
      `app: ${root}/levels/.wh.old.pak: names starting with ".wh." are reserved for OCI whiteouts; a layer cannot hold this file`,
    );
  });

  it('rejects the names gamelayer writes at a tree root', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, { '.complete': 'x', 'levels/.complete': 'fine inside a folder' });
    await expect(scanDir(root, dir)).rejects.toThrow(`app: ${root}/.complete: ".complete" at a tree's root is reserved for gamelayer's own markers`);
  });

  it('rejects names that are not UTF-8 instead of silently losing their siblings', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, { 'levels/a.pak': 'a', 'levels/b.pak': 'b' });
    await writeFile(Buffer.from(`${root}/levels/bad\xff.pak`, 'latin1'), 'c');
    await expect(scanDir(root, dir)).rejects.toThrow(`app: ${root}/levels holds a name that is not valid UTF-8 (bytes: 626164ff2e70616b`);
  });
});

describe('scan: archives', () => {
  it('reads a tar.gz as a stream into the same manifest as the directory it was made from', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await writeTree(root, SPEC);
    execFileSync('tar', ['-C', root, '-czf', path.join(dir, 'engine.tar.gz'), '.']);
    execFileSync('tar', ['-C', root, '-cf', path.join(dir, 'engine.tar'), 'bin', 'start.sh', 'config', 'media']);
    const fromDir = await scanDir(root, path.join(dir, 's1'));
    const fromTgz = await scanDir(path.join(dir, 'engine.tar.gz'), path.join(dir, 's2'));
    const fromTar = await scanDir(path.join(dir, 'engine.tar'), path.join(dir, 's3'));
    expect(fromTgz.manifest.source).toEqual({ kind: 'archive', path: path.join(dir, 'engine.tar.gz'), compression: 'gzip' });
    expect(fromTgz.manifest.entries).toEqual(fromDir.manifest.entries);
    expect(fromTar.manifest.digest).toBe(fromDir.manifest.digest);
  });

  it('rejects entries that point outside the tree', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'evil.tar.gz');
    await writeArchive(file, [{ name: 'ok.txt', content: 'x' }, { name: '../../etc/passwd', content: 'y' }]);
    await expect(scanDir(file, dir)).rejects.toThrow(`app: ${file} holds the entry "../../etc/passwd", which points outside the tree`);
    const abs = path.join(dir, 'abs.tar.gz');
    await writeArchive(abs, [{ name: '/etc/passwd', content: 'y' }]);
    await expect(scanDir(abs, dir)).rejects.toThrow(`holds the entry "/etc/passwd", which points outside the tree`);
  });

  it('rejects device files in archives', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'dev.tar.gz');
    await writeArchive(file, [{ name: 'dev/null', type: 'character-device' }]);
    await expect(scanDir(file, dir)).rejects.toThrow(`app: ${file} holds "dev/null", a character-device; a container layer cannot hold it`);
  });

  it('reports a truncated tar.gz as corrupt', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'engine.tar.gz');
    await writeArchive(file, [{ name: 'bin/server', content: Buffer.from(Buffer.alloc(200_000, 5).map((_, i) => (i * 7919) % 251)) }]);
    const full = await readFile(file);
    await writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    await expect(scanDir(file, dir)).rejects.toThrow(`app: ${file} is not a readable tar.gz archive:`);
  });
});

async function writeArchive(
  file: string,
  entries: { name: string; content?: string | Buffer; type?: 'file' | 'character-device' }[],
): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(file));
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    const header = { name: e.name, type: e.type ?? 'file', size: content?.length ?? 0, mode: 0o644 } as const;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (content) pack.entry(header, content, cb);
      else pack.entry(header, cb).end(Buffer.alloc(0));
    });
  }
  pack.finalize();
  await done;
  await mkdir(path.dirname(file), { recursive: true });
}

