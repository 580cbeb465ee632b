// A stat cache file in its writer's layout is read a piece at a time into compact rows (src/scan/stat-rows.ts):
// the same paths, numbers and hashes as the file's JSON, each path's text as JSON.stringify wrote it; any other
// file (another layout, a wrong checksum, a truncated one) is left to the general reader. Tiny reads cross every
// boundary of a path, an escape and a number.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ColumnRows, compactRows, readStatRows, StoredRows, type Columns, type Rows } from '../src/scan/stat-rows.js';
import { writeCheckedJson } from '../src/util/checked-json.js';
import { tempDir } from './support/tmp.js';

const FORMAT = 'gamelayer-stat-cache/2';
const odd = ['a/b.dat', 'ä/😀 "q" \\ \t\u0001.x', 'x,y]z', '', 'deep/'.repeat(40) + 'f'];

function columns(n: number): Columns {
  const paths = Array.from({ length: n }, (_, i) => `${odd[i % odd.length]}${i}`);
  return {
    paths,
    size: paths.map((_, i) => i * 1000),
    mtime: paths.map((_, i) => 1733370000123.4567 + i),
    ctime: paths.map((_, i) => 1733370000000 + i / 3),
    ino: paths.map((_, i) => 9007199254740 - i),
    xxh64: paths.map((_, i) => (0xabc + i).toString(16).padStart(16, '0')).join(''),
  };
}

function same(rows: Rows, c: Columns): void {
  expect(rows.length).toBe(c.paths.length);
  for (let i = 0; i < rows.length; i++) {
    expect(rows.pathJson(i)).toBe(JSON.stringify(c.paths[i]));
    expect(rows.pathIs(i, c.paths[i]!)).toBe(true);
    expect(rows.pathIs(i, `${c.paths[i]!}x`)).toBe(false);
    expect(rows.pathIs(i, c.paths[i]!.slice(0, -1))).toBe(false);
  }
  expect(Array.from(rows.size)).toEqual(c.size);
  expect(Array.from(rows.mtime)).toEqual(c.mtime);
  expect(Array.from(rows.ctime)).toEqual(c.ctime);
  expect(Array.from(rows.ino)).toEqual(c.ino);
  expect(Array.from({ length: rows.length }, (_, i) => rows.hashAt(i)).join('')).toBe(c.xxh64);
}

const savedMin = compactRows.minBytes;
beforeEach(() => {
  compactRows.minBytes = 0;
});
afterEach(() => {
  compactRows.minBytes = savedMin;
});

describe('a stat cache read into compact rows', () => {
  it('holds the file’s paths, numbers and hashes, read whole or a few bytes at a time', async () => {
    const dir = await tempDir();
    for (const n of [0, 1, 7, 60]) {
      const c = columns(n);
      const file = path.join(dir, `c${n}.json`);
      await writeCheckedJson(file, FORMAT, c);
      for (const chunk of [1, 3, 64, 1 << 20]) {
        const rows = readStatRows(file, FORMAT, chunk);
        expect(rows, `${n} ${chunk}`).toBeDefined();
        same(rows!, c);
      }
      same(StoredRows.fromColumns(c), c);
      same(new ColumnRows(c), c);
      for (let i = 0; i < n; i++) expect(StoredRows.fromColumns(c).path(i)).toBe(c.paths[i]);
      expect(StoredRows.fromColumns(c).rowOf(c.paths[n - 1] ?? 'none')).toBe(n - 1);
    }
  });

  it('parses columns longer than a piece of number text within one read (stop 43: 32 KiB pieces of a MiB read)', async () => {
    const dir = await tempDir();
    // 8000 rows: each number column is 40-150 KB of text, cut into pieces inside a 1 MiB read.
    const c = columns(8000);
    const file = path.join(dir, 'long.json');
    await writeCheckedJson(file, FORMAT, c);
    for (const chunk of [1 << 20, 40_000]) same(readStatRows(file, FORMAT, chunk)!, c);
  });

  it('leaves any other file to the general reader', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'c.json');
    await writeCheckedJson(file, FORMAT, columns(9));
    const good = await readFile(file, 'utf8');
    const [head, body] = [good.slice(0, good.indexOf('\n') + 1), good.slice(good.indexOf('\n') + 1)];
    const others = [
      good.slice(0, -2),
      `${good} `,
      good.replace(FORMAT, 'gamelayer-stat-cache/1'),
      `${head}${body.replace('"size":[0,', '"size":[1,')}`,
      good.replace('{"paths":[', '{ "paths":['),
      good.replace(/"ino":\[[^\]]*\]/, '"ino":[]'),
      good.replace('"xxh64":"0', '"xxh64":"x'),
    ];
    for (const text of others) {
      await writeFile(file, text);
      expect(readStatRows(file, FORMAT, 5)).toBeUndefined();
    }
    expect(readStatRows(path.join(dir, 'none.json'), FORMAT)).toBeUndefined();
    // A small cache is read as JSON.
    await writeCheckedJson(file, FORMAT, columns(9));
    compactRows.minBytes = 1 << 20;
    expect(readStatRows(file, FORMAT)).toBeUndefined();
  });
});

describe('a path looked up away from the walk’s next row (a file removed or added since the cache was saved)', () => {
  it('is found by its bytes, with no string made per row (a map of every path was 80 MiB at 1M rows)', async () => {
    const dir = await tempDir();
    const n = 5000;
    const c = columns(n);
    // A path twice: the last row is the one found, as a map set row by row kept it.
    c.paths[n - 2] = c.paths[7]!;
    const file = path.join(dir, 'c.json');
    await writeCheckedJson(file, FORMAT, c);
    const rows = readStatRows(file, FORMAT)!;
    const made = vi.spyOn(StoredRows.prototype, 'path');
    const parsed = vi.spyOn(JSON, 'parse');
    try {
      for (let i = 0; i < n; i += 7) if (i !== 7) expect(rows.rowOf(c.paths[i]!), c.paths[i]).toBe(i);
      expect(rows.rowOf(c.paths[7]!)).toBe(n - 2);
      for (const missing of ['nope', `${c.paths[3]!}x`, c.paths[3]!.slice(0, -1), 'ä/😀 "q" \\ \t\u0001.y', '']) expect(rows.rowOf(missing), missing).toBe(-1);
      // Strings made for the lookups: none for the rows (the old table parsed each of the 5000).
      expect(made).toHaveBeenCalledTimes(0);
      expect(parsed.mock.calls.length).toBeLessThan(10);
    } finally {
      made.mockRestore();
      parsed.mockRestore();
    }
  });
});

describe('a rescan through compact rows', () => {
  it('finds, keeps and saves the rows the JSON-read cache does: same manifest, stats and saved cache', async () => {
    const { cp, mkdir: mk, readdir, utimes } = await import('node:fs/promises');
    const { scanTree } = await import('../src/scan/scan.js');
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    for (const [i, p] of odd.filter(Boolean).entries()) {
      await mk(path.dirname(path.join(root, `${p}${i}`)), { recursive: true });
      await writeFile(path.join(root, `${p}${i}`), `${i}\n`);
    }
    for (let i = 0; i < 30; i++) await writeFile(path.join(root, 'a', `f${i}`), `f${i}\n`);
    const old = new Date(Date.now() - 3600_000);
    const touch = async (p: string): Promise<void> => {
      for (const e of await readdir(p, { withFileTypes: true })) {
        if (e.isDirectory()) await touch(path.join(p, e.name));
        await utimes(path.join(p, e.name), old, old);
      }
    };
    await touch(root);
    const ALL = { include: ['**'], exclude: [] };
    await scanTree('app', root, ALL, { stateDir: path.join(dir, 'cold') });
    await writeFile(path.join(root, 'a', 'f3'), 'changed\n');
    await writeFile(path.join(root, 'a', 'new'), 'new\n');
    const rescan = async (min: number) => {
      const stateDir = path.join(dir, `s${min}`);
      await cp(path.join(dir, 'cold'), stateDir, { recursive: true });
      compactRows.minBytes = min;
      const s = await scanTree('app', root, ALL, { stateDir });
      const cacheDir = path.join(stateDir, 'cache', 'stat');
      const caches = await Promise.all((await readdir(cacheDir)).map((f) => readFile(path.join(cacheDir, f), 'utf8')));
      const { ms: _ms, ...stats } = s.stats;
      return { manifest: JSON.stringify(s.manifest), stats, caches };
    };
    const json = await rescan(Number.MAX_SAFE_INTEGER);
    const compact = await rescan(0);
    expect(compact).toEqual(json);
    expect(compact.stats).toMatchObject({ hashedFiles: 2 });
  });
});
