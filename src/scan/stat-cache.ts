// path → (size, mtime, ctime, inode) → xxh64. A rescan of an unchanged tree then costs only stats.
// Stored as checked JSON: a truncated or garbled cache is detected and ignored, never trusted.
//
// Columnar on disk (one array per field, the hashes as one string): parsing 100k numbers in flat arrays is a
// fraction of the cost of 100k small row arrays, and after the walk this parse is the largest part of a no-op
// rescan. Rows are saved in walk order, so a rescan finds each path at the next row without a lookup table.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { readCheckedJson, writeCheckedJsonPieces } from '../util/checked-json.js';
import type { OpenFiles } from '../util/open-files.js';
import { tempTag } from '../util/temp-files.js';
import type { FileEntry } from '../types.js';
import type { EntrySource } from '../entries/entry-source.js';
import { entrySourceOf } from '../entries/packed-list.js';
import { PagedNumbers, type NumberColumn } from './paged-keys.js';
import { ColumnRows, readStatRows, type Columns, type Rows } from './stat-rows.js';

/** [size, mtimeMs, ctimeMs, ino] */
export type StatKey = [number, number, number, number];

const FORMAT = 'gamelayer-stat-cache/2';
/** The row format of earlier versions: still read, so an upgrade does not rehash every file. */
const FORMAT_ROWS = 'gamelayer-stat-cache/1';
const HASH_CHARS = 16;

/** A file is cached only if its mtime is this much older than the moment its hash began (racy-git rule). */
export const RACY_WINDOW_MS = 2000;

const EMPTY = new ColumnRows({ paths: [], size: [], mtime: [], ctime: [], ino: [], xxh64: '' });

/** Numbers per block of a Column. */
const BLOCK = 1 << 14;

/**
 * A growable column of numbers in typed blocks: 8 (or 4) bytes per number, and growing never copies what is there
 * (a doubling array would hold up to twice its rows, and both copies while it grows).
 */
class Column {
  private readonly blocks: (Float64Array | Int32Array | Uint8Array)[] = [];
  length = 0;
  constructor(private readonly make: (n: number) => Float64Array | Int32Array | Uint8Array) {}

  push(v: number): void {
    if (this.length === this.blocks.length * BLOCK) this.blocks.push(this.make(BLOCK));
    this.blocks[this.length >> 14]![this.length & (BLOCK - 1)] = v;
    this.length++;
  }

  at(i: number): number {
    return this.blocks[i >> 14]![i & (BLOCK - 1)]!;
  }

  set(i: number, v: number): void {
    this.blocks[i >> 14]![i & (BLOCK - 1)] = v;
  }
}

const float64s = () => new Column((n) => new Float64Array(n));
const int32s = () => new Column((n) => new Int32Array(n));
const uint8s = () => new Column((n) => new Uint8Array(n));

/**
 * A file reserved for hashing: the scan's own entry, whose `xxh64` the scan fills in before `record`. Its `size` is
 * the size of the stat it is reserved (and recorded) with: kept there, not a fourth time in the cache's columns. The
 * cache does not hold the entry: it holds its place in the scan's list (`attach`), 4 bytes in an `Int32Array` block.
 * The cache reads a reserved file's path, size and xxh64 only.
 */
export interface ReservedFile {
  readonly path: string;
  size: number;
  xxh64?: string;
}

/**
 * Reserved files from which `spillReserved` moves their stats to a file: 24 bytes a file, 24 MiB of a cold build of
 * 1M files held from the scan to the end of the layers. An object, so that a test can send a small tree that way.
 */
export const statSpill = { minFiles: 65_536 };

/** Rows written per piece of the saved JSON. */
const SAVE_BATCH = 4096;

export class StatCache {
  /**
   * What the next save writes, in walk order: a stored row this scan kept (>= 0), or `~i` for the i-th file it
   * reserved (written when `record` kept it). Walk order on disk is what lets the next rescan skip lookups.
   */
  private readonly slots = int32s();
  /**
   * Files reserved for hashing, as their places in `list` (the scan's entries, not copies), the rest of their stat
   * (mtime, ctime, inode: the size is the entry's) and whether to keep them: 29 bytes a file beside the entry. A
   * list of references instead of places was 8 bytes a file and a growth array up to twice that, never shrunk.
   */
  private readonly places = int32s();
  /** The scan's entries the places point into: a list of objects, or the packed store of a cold scan. */
  private entries: EntrySource = entrySourceOf([]);
  private reservedKeys = float64s();
  /** The reserved files' stats once moved out of memory (`spillReserved`); `reservedKeys` is then empty. */
  private paged?: PagedNumbers;
  private readonly kept = uint8s();
  private cursor = 0;
  /** Who closes the spilled file however the run ends, if the save does not (a build that failed); set by `open`. */
  private owner?: OpenFiles;

  private constructor(
    readonly file: string,
    private readonly rows: Rows,
    /** Why the stored cache was not used, when it existed but was not. */
    readonly rejected?: string,
    /** Read from the row format: the next save rewrites it in this one even when nothing changed. */
    private readonly legacy = false,
  ) {}

  /** `owner`: the run (a build) that closes this cache's spilled stats however it ends (`spillReserved`). */
  static async open(file: string, owner?: OpenFiles): Promise<StatCache> {
    const cache = await StatCache.read(file);
    cache.owner = owner;
    return cache;
  }

  private static async read(file: string): Promise<StatCache> {
    // The writer's own layout, a MiB at a time into compact rows; anything else is read whole, as JSON.
    const rows = readStatRows(file, FORMAT);
    if (rows) return new StatCache(file, rows);
    const read = await readCheckedJson<unknown>(file, [FORMAT, FORMAT_ROWS]);
    if (!read.ok) return new StatCache(file, EMPTY, read.missing ? undefined : read.reason);
    if (read.format === FORMAT_ROWS) return new StatCache(file, new ColumnRows(fromRows(read.value)), undefined, true);
    const columns = asColumns(read.value);
    if (!columns) return new StatCache(file, EMPTY, 'corrupt body');
    return new StatCache(file, new ColumnRows(columns));
  }

  /** No stored row: every file of the scan will be reserved (a first scan, or a cache that was not used). */
  get empty(): boolean {
    return this.rows.length === 0;
  }

  /** Rows the stored cache holds (files of the scan that saved it). */
  get storedRows(): number {
    return this.rows.length;
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
    return this.rows.hashAt(row);
  }

  /** Keeps a stored row (a hit of this scan) for the next save, at the walk's current place. */
  keep(row: number): void {
    this.slots.push(row);
  }

  /**
   * The entries that reserved places point into (the scan's list, or its packed store: places are then its indexes);
   * set before the first `reserve`.
   */
  attach(entries: readonly ReservedFile[] | EntrySource): void {
    // Only path, size and xxh64 are read (ReservedFile): a list of them reads as one of entries.
    this.entries = Array.isArray(entries) ? entrySourceOf(entries as readonly FileEntry[]) : (entries as EntrySource);
  }

  /**
   * Points the reserved places into `entries` instead, the file at old place p now at `placeOf[p]`: the scan sorted
   * its entries into the manifest's order and the walk's list is dropped.
   */
  moveTo(entries: readonly ReservedFile[] | EntrySource, placeOf: Int32Array): void {
    for (let slot = 0; slot < this.places.length; slot++) this.places.set(slot, placeOf[this.places.at(slot)]!);
    this.attach(entries);
  }

  /**
   * Holds the walk's current place for the file at `list[place]`, about to be hashed, with its stat; returns its
   * slot for `record`.
   */
  reserve(place: number, k: StatKey): number {
    if (this.paged) throw new Error('stat cache: a file reserved after the reserved stats were moved to a file');
    const slot = this.places.length;
    const size = place < this.entries.length ? this.entries.size(place) : undefined;
    if (size === undefined) throw new Error(`stat cache: no file at place ${place} of the attached list`);
    if (size !== k[0]) throw new Error(`stat cache: the file at place ${place} reserved with size ${k[0]}, its entry says ${size}`);
    this.places.push(place);
    for (let j = 1; j < 4; j++) this.reservedKeys.push(k[j]!);
    this.kept.push(0);
    this.slots.push(~slot);
    return slot;
  }

  /**
   * Moves the reserved files' stats (mtime, ctime, inode) out of memory into a temp file beside the cache, read back a
   * page at a time, once at least `min` files are reserved and no more will be: a cold build's scan hands them to the
   * layer writer, which reads each file's stat once, about in the order they were reserved. Kept in memory when the
   * file cannot be made (a read-only state dir).
   */
  spillReserved(min = statSpill.minFiles): void {
    if (this.paged || this.places.length < min) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      this.paged = new PagedNumbers(`${this.file}.keys.${tempTag()}`, this.reservedKeys, this.places.length * 3, this.owner);
      this.reservedKeys = float64s();
    } catch {
      this.paged = undefined;
    }
  }

  /** The reserved files' mtime, ctime and inode, 3 a slot: in memory, or in the spilled file. */
  private get keys(): NumberColumn {
    return this.paged ?? this.reservedKeys;
  }

  /** Files reserved so far; slots are 0 … reservedCount - 1. */
  get reservedCount(): number {
    return this.places.length;
  }

  reservedPath(slot: number): string {
    return this.entries.path(this.places.at(slot));
  }

  private reservedSize(slot: number): number {
    return this.entries.size(this.places.at(slot));
  }

  private reservedHash(slot: number): string | undefined {
    return this.entries.xxh64(this.places.at(slot));
  }

  /** Where the slot's file is in the attached list. */
  reservedPlace(slot: number): number {
    return this.places.at(slot);
  }

  /** The stat a reserved file had when it was reserved (or last recorded). */
  reservedKey(slot: number): StatKey {
    const k = this.keys;
    return [this.reservedSize(slot), k.at(slot * 3), k.at(slot * 3 + 1), k.at(slot * 3 + 2)];
  }

  /**
   * Keeps the hash the reserved file now holds for the next save, with the stat it was taken under; `hashedAtMs` is
   * when hashing began. Racy files are not kept.
   */
  record(slot: number, k: StatKey, hashedAtMs: number): void {
    // The size is the entry's own (the scan sets it when it hashes a changed file again).
    if (this.reservedSize(slot) !== k[0]) throw new Error(`stat cache: ${this.reservedPath(slot)} recorded with another size than its entry's`);
    for (let j = 1; j < 4; j++) this.keys.set(slot * 3 + j - 1, k[j]!);
    this.kept.set(slot, k[1] < hashedAtMs - RACY_WINDOW_MS && this.reservedHash(slot)?.length === HASH_CHARS ? 1 : 0);
  }

  /** True when the next save would write what is already stored: every stored row was kept, in order, and none hashed. */
  get unchanged(): boolean {
    if (this.legacy || this.rejected !== undefined || this.places.length > 0 || this.slots.length !== this.rows.length) return false;
    for (let i = 0; i < this.slots.length; i++) if (this.slots.at(i) !== i) return false;
    return true;
  }

  /**
   * Writes what this scan kept and recorded (paths not seen are dropped): the same JSON as one JSON.stringify of
   * the columns, made and written a piece at a time, so a 1M-file cache is never one string in memory.
   */
  async save(): Promise<void> {
    // The rows to write, in walk order: stored rows kept, reserved files recorded.
    const rows = int32s();
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots.at(i);
      if (s >= 0 || this.kept.at(~s) === 1) rows.push(s);
    }
    try {
      await writeCheckedJsonPieces(this.file, FORMAT, this.columnsJson(rows));
    } finally {
      // The stats moved to a file are needed until this save: its file goes now.
      this.paged?.close();
    }
  }

  /** JSON.stringify of the Columns of `rows`, in pieces. */
  private *columnsJson(rows: Column): Generator<string> {
    const c = this.rows;
    const keys = this.keys;
    // Numbers go to text through JSON.stringify of the piece (the same digits as join): join and String() go through
    // V8's number-to-string cache, whose strings live long enough to be promoted to the old generation, where each
    // one evicted stays as garbage until a full GC (about 23 bytes per distinct number: 20-30 MiB by the end of a
    // 1M-row save). One array per column, emptied after each piece, not a new one per piece.
    const piece: (string | number)[] = [];
    const column = function* (open: string, close: string, item: (s: number) => string | number): Generator<string> {
      yield open;
      for (let start = 0; start < rows.length; start += SAVE_BATCH) {
        piece.length = 0;
        for (let i = start; i < Math.min(rows.length, start + SAVE_BATCH); i++) piece.push(item(rows.at(i)));
        const text = typeof piece[0] === 'number' ? JSON.stringify(piece).slice(1, -1) : piece.join(',');
        yield (start > 0 ? ',' : '') + text;
      }
      piece.length = 0;
      yield close;
    };
    const stat = (j: number, stored: ArrayLike<number>) => (s: number) => (s >= 0 ? stored[s]! : j === 0 ? this.reservedSize(~s) : keys.at(~s * 3 + j - 1));
    yield* column('{"paths":[', ']', (s) => s >= 0 ? c.pathJson(s) : JSON.stringify(this.reservedPath(~s)));
    yield* column(',"size":[', ']', stat(0, c.size));
    yield* column(',"mtime":[', ']', stat(1, c.mtime));
    yield* column(',"ctime":[', ']', stat(2, c.ctime));
    yield* column(',"ino":[', ']', stat(3, c.ino));
    const hashes: string[] = [];
    yield ',"xxh64":"';
    for (let i = 0; i < rows.length; i++) {
      const s = rows.at(i);
      hashes.push(s >= 0 ? this.hashAt(s) : this.reservedHash(~s)!);
      if (hashes.length === SAVE_BATCH) {
        yield hashes.join('');
        hashes.length = 0;
      }
    }
    yield `${hashes.join('')}"}`;
  }

  /** Walk order is stable, so the next path is almost always at the cursor; a table is built only on a miss. */
  private rowOf(relPath: string): number {
    const rows = this.rows;
    if (this.cursor < rows.length && rows.pathIs(this.cursor, relPath)) return this.cursor++;
    const r = rows.rowOf(relPath);
    if (r < 0) return -1;
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
