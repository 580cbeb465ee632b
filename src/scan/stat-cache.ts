// path → (size, mtime, ctime, inode) → xxh64. A rescan of an unchanged tree then costs only stats.
// Stored as checked JSON: a truncated or garbled cache is detected and ignored, never trusted.
//
// Columnar on disk (one array per field, the hashes as one string): parsing 100k numbers in flat arrays is a
// fraction of the cost of 100k small row arrays, and after the walk this parse is the largest part of a no-op
// rescan. Rows are saved in walk order, so a rescan finds each path at the next row without a lookup table.
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';

/** [size, mtimeMs, ctimeMs, ino] */
export type StatKey = [number, number, number, number];

const FORMAT = 'gamelayer-stat-cache/2';
/** The row format of earlier versions: still read, so an upgrade does not rehash every file. */
const FORMAT_ROWS = 'gamelayer-stat-cache/1';
const HASH_CHARS = 16;

/** A file is cached only if its mtime is this much older than the moment its hash began (racy-git rule). */
export const RACY_WINDOW_MS = 2000;

interface Columns {
  paths: string[];
  size: number[];
  mtime: number[];
  ctime: number[];
  ino: number[];
  /** xxh64 of every row, 16 hex digits each, concatenated. */
  xxh64: string;
}

const EMPTY: Columns = { paths: [], size: [], mtime: [], ctime: [], ino: [], xxh64: '' };

interface AddedRow {
  path: string;
  key: StatKey;
  xxh64: string;
}

export class StatCache {
  /**
   * What the next save writes, in walk order: a stored row this scan kept (>= 0), or `~i` for the i-th file it
   * hashed (filled by `record`, left out when racy). Walk order on disk is what lets the next rescan skip lookups.
   */
  private readonly slots: number[] = [];
  private readonly added: (AddedRow | undefined)[] = [];
  private cursor = 0;
  private index?: Map<string, number>;

  private constructor(
    readonly file: string,
    private readonly rows: Columns,
    /** Why the stored cache was not used, when it existed but was not. */
    readonly rejected?: string,
    /** Read from the row format: the next save rewrites it in this one even when nothing changed. */
    private readonly legacy = false,
  ) {}

  static async open(file: string): Promise<StatCache> {
    const read = await readCheckedJson<unknown>(file, [FORMAT, FORMAT_ROWS]);
    if (!read.ok) return new StatCache(file, EMPTY, read.missing ? undefined : read.reason);
    if (read.format === FORMAT_ROWS) return new StatCache(file, fromRows(read.value), undefined, true);
    const columns = asColumns(read.value);
    if (!columns) return new StatCache(file, EMPTY, 'corrupt body');
    return new StatCache(file, columns);
  }

  /** The stored row of `relPath` when every stat field matches, else -1. */
  lookup(relPath: string, size: number, mtimeMs: number, ctimeMs: number, ino: number): number {
    const r = this.rowOf(relPath);
    const c = this.rows;
    if (r < 0 || c.size[r] !== size || c.mtime[r] !== mtimeMs || c.ctime[r] !== ctimeMs || c.ino[r] !== ino) return -1;
    return r;
  }

  /** The hash of a row `lookup` returned. */
  hashAt(row: number): string {
    return this.rows.xxh64.slice(row * HASH_CHARS, (row + 1) * HASH_CHARS);
  }

  /** Keeps a stored row (a hit of this scan) for the next save, at the walk's current place. */
  keep(row: number): void {
    this.slots.push(row);
  }

  /** Holds the walk's current place for a file about to be hashed; `record` fills it. */
  reserve(): number {
    this.added.push(undefined);
    this.slots.push(~(this.added.length - 1));
    return this.added.length - 1;
  }

  /** Keeps a hash for the next save at its reserved place; `hashedAtMs` is when hashing began. Racy files are not kept. */
  record(slot: number, relPath: string, k: StatKey, xxh64: string, hashedAtMs: number): void {
    if (k[1] >= hashedAtMs - RACY_WINDOW_MS) return;
    this.added[slot] = { path: relPath, key: k, xxh64 };
  }

  /** True when the next save would write what is already stored: every stored row was kept, in order, and none hashed. */
  get unchanged(): boolean {
    if (this.legacy || this.rejected !== undefined || this.added.length > 0 || this.slots.length !== this.rows.paths.length) return false;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i] !== i) return false;
    return true;
  }

  /** Writes what this scan kept and recorded (paths not seen are dropped). */
  async save(): Promise<void> {
    const c = this.rows;
    const out: Columns = { paths: [], size: [], mtime: [], ctime: [], ino: [], xxh64: '' };
    const hashes: string[] = [];
    const push = (p: string, size: number, mtime: number, ctime: number, ino: number, xxh64: string) => {
      out.paths.push(p);
      out.size.push(size);
      out.mtime.push(mtime);
      out.ctime.push(ctime);
      out.ino.push(ino);
      hashes.push(xxh64);
    };
    for (const s of this.slots) {
      if (s >= 0) {
        push(c.paths[s]!, c.size[s]!, c.mtime[s]!, c.ctime[s]!, c.ino[s]!, this.hashAt(s));
      } else {
        const a = this.added[~s];
        if (a) push(a.path, a.key[0], a.key[1], a.key[2], a.key[3], a.xxh64);
      }
    }
    out.xxh64 = hashes.join('');
    await writeCheckedJson(this.file, FORMAT, out);
  }

  /** Walk order is stable, so the next path is almost always at the cursor; a table is built only on a miss. */
  private rowOf(relPath: string): number {
    const paths = this.rows.paths;
    if (paths[this.cursor] === relPath) return this.cursor++;
    if (!this.index) {
      this.index = new Map();
      for (let i = 0; i < paths.length; i++) this.index.set(paths[i]!, i);
    }
    const r = this.index.get(relPath);
    if (r === undefined) return -1;
    this.cursor = r + 1;
    return r;
  }
}

function asColumns(v: unknown): Columns | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Partial<Columns>;
  const n = Array.isArray(c.paths) ? c.paths.length : -1;
  const numbers = [c.size, c.mtime, c.ctime, c.ino];
  if (n < 0 || typeof c.xxh64 !== 'string' || c.xxh64.length !== n * HASH_CHARS) return undefined;
  if (!numbers.every((a) => Array.isArray(a) && a.length === n)) return undefined;
  if (!c.paths!.every((p) => typeof p === 'string')) return undefined;
  return c as Columns;
}

/** A cache of the row format: [path, size, mtime, ctime, ino, xxh64] per file. */
function fromRows(v: unknown): Columns {
  const c: Columns = { paths: [], size: [], mtime: [], ctime: [], ino: [], xxh64: '' };
  const hashes: string[] = [];
  if (!Array.isArray(v)) return c;
  for (const r of v as unknown[]) {
    if (!Array.isArray(r) || r.length !== 6 || typeof r[0] !== 'string' || typeof r[5] !== 'string' || r[5].length !== HASH_CHARS) continue;
    c.paths.push(r[0]);
    c.size.push(r[1] as number);
    c.mtime.push(r[2] as number);
    c.ctime.push(r[3] as number);
    c.ino.push(r[4] as number);
    hashes.push(r[5]);
  }
  c.xxh64 = hashes.join('');
  return c;
}
