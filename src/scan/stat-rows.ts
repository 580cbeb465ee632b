// The stored rows of a stat cache (stat-cache.ts), held compactly (issue 17 item 2): a 1M-file cache is 78 MB of
// JSON, which read as one string and parsed into a list of 1M path strings and four lists of numbers held about
// 200 MiB at the start of every rescan, for the whole scan. Here each path is kept as its JSON text (the bytes the
// file holds, which the next save writes again as they are), the numbers in typed arrays, the hashes as one string:
// about 75 bytes a row, and the file is read a MiB at a time, its checksum taken on the way.
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import { openRegularFileSyncOrNone } from '../util/small-file.js';

/** The columns as JSON.parse gives them (a small cache, an older format): made into StoredRows by `fromColumns`. */
export interface Columns {
  paths: string[];
  size: number[];
  mtime: number[];
  ctime: number[];
  ino: number[];
  /** xxh64 of every row, 16 hex digits each, concatenated. */
  xxh64: string;
}

/** A cache's stored rows, however held: `StoredRows` (compact, a large cache) or `ColumnRows` (as parsed). */
export interface Rows {
  readonly length: number;
  readonly size: ArrayLike<number>;
  readonly mtime: ArrayLike<number>;
  readonly ctime: ArrayLike<number>;
  readonly ino: ArrayLike<number>;
  /** Row i's xxh64, 16 hex digits. */
  hashAt(i: number): string;
  /** Row i's path as JSON (what JSON.stringify gave when it was saved). */
  pathJson(i: number): string;
  /** True when row i's path is `relPath`. */
  pathIs(i: number, relPath: string): boolean;
  /** The row of `relPath` (-1: none), from a table of every path made on the first call. */
  rowOf(relPath: string): number;
}

/** The columns as JSON.parse gave them: a small cache, whose strings and lists cost less to read than to pack. */
export class ColumnRows implements Rows {
  private index?: Map<string, number>;
  readonly size: number[];
  readonly mtime: number[];
  readonly ctime: number[];
  readonly ino: number[];
  private readonly xxh64: string;
  private readonly paths: string[];

  constructor(c: Columns) {
    ({ paths: this.paths, size: this.size, mtime: this.mtime, ctime: this.ctime, ino: this.ino, xxh64: this.xxh64 } = c);
  }

  get length(): number {
    return this.paths.length;
  }

  pathJson(i: number): string {
    return JSON.stringify(this.paths[i]);
  }

  hashAt(i: number): string {
    return this.xxh64.slice(i * HASH_CHARS, (i + 1) * HASH_CHARS);
  }

  pathIs(i: number, relPath: string): boolean {
    return this.paths[i] === relPath;
  }

  rowOf(relPath: string): number {
    if (!this.index) {
      this.index = new Map();
      for (let i = 0; i < this.paths.length; i++) this.index.set(this.paths[i]!, i);
    }
    return this.index.get(relPath) ?? -1;
  }
}

export class StoredRows implements Rows {
  /**
   * The rows by their path's hash: open addressing, row + 1 in each slot (0: empty), 2 to 4 slots a row (8-16 bytes).
   * A map of every path was a string and a map slot a row (about 80 MiB at 1M rows), made on the first path that is
   * not at the walk's next row: every rescan after a file was removed or added (docs/architecture.md).
   */
  private index?: Int32Array;

  constructor(
    /** The paths' JSON texts one after another, each followed by a comma (the last one too, or not). */
    private readonly pathText: Buffer,
    /** Where row i's text ends (after its closing quote); it starts one byte after row i-1's end. */
    private readonly pathEnd: Int32Array,
    readonly size: Float64Array,
    readonly mtime: Float64Array,
    readonly ctime: Float64Array,
    readonly ino: Float64Array,
    /** Every row's xxh64 as its 16 hex digits' bytes, one after another. */
    private readonly hex: Buffer,
  ) {}

  static fromColumns(c: Columns): StoredRows {
    const texts = c.paths.map((p) => JSON.stringify(p));
    const pathEnd = new Int32Array(texts.length);
    const pathText = Buffer.from(texts.join(','));
    let at = 0;
    for (let i = 0; i < texts.length; i++) {
      at += Buffer.byteLength(texts[i]!) + (i > 0 ? 1 : 0);
      pathEnd[i] = at;
    }
    return new StoredRows(pathText, pathEnd, Float64Array.from(c.size), Float64Array.from(c.mtime), Float64Array.from(c.ctime), Float64Array.from(c.ino), Buffer.from(c.xxh64, 'latin1'));
  }

  get length(): number {
    return this.pathEnd.length;
  }

  private start(i: number): number {
    return i === 0 ? 0 : this.pathEnd[i - 1]! + 1;
  }

  hashAt(i: number): string {
    return this.hex.toString('latin1', i * HASH_CHARS, (i + 1) * HASH_CHARS);
  }

  /** Row i's path as JSON (what JSON.stringify gave when it was saved). */
  pathJson(i: number): string {
    return this.pathText.toString('utf8', this.start(i), this.pathEnd[i]!);
  }

  path(i: number): string {
    return JSON.parse(this.pathJson(i)) as string;
  }

  /** True when row i's path is `relPath`: compared on the bytes where it is plain ASCII, no string made. */
  pathIs(i: number, relPath: string): boolean {
    const s = this.start(i);
    const e = this.pathEnd[i]!;
    const text = this.pathText;
    if (e - s - 2 < relPath.length) return false;
    for (let k = 0; k < relPath.length; k++) {
      const c = relPath.charCodeAt(k);
      // Text JSON.stringify writes otherwise (escaped or several bytes): compared as JSON.
      if (c >= 127 || c < 32 || c === 34 || c === 92) return text.subarray(s, e).equals(Buffer.from(JSON.stringify(relPath)));
      if (text[s + 1 + k] !== c) return false;
    }
    return e - s - 2 === relPath.length;
  }

  /**
   * The row of `relPath` from a table of every row by its path's hash, made on the first call (a path not at the
   * walk's next row), no path string made: each candidate is compared on its bytes (`pathIs`).
   */
  rowOf(relPath: string): number {
    const index = (this.index ??= this.hashIndex());
    const mask = index.length - 1;
    for (let slot = pathHash(relPath) & mask; index[slot] !== 0; slot = (slot + 1) & mask) {
      const row = index[slot]! - 1;
      if (this.pathIs(row, relPath)) return row;
    }
    return -1;
  }

  private hashIndex(): Int32Array {
    let size = 2;
    while (size < this.length * 2) size *= 2;
    const index = new Int32Array(size);
    const mask = size - 1;
    // The last row of a path first, so that it is the one found (as a map set row by row kept it).
    for (let i = this.length - 1; i >= 0; i--) {
      let slot = textHash(this.pathText, this.start(i), this.pathEnd[i]!) & mask;
      while (index[slot] !== 0) slot = (slot + 1) & mask;
      index[slot] = i + 1;
    }
    return index;
  }
}

/** FNV-1a over bytes `from` to `to` of `text`: a row's path as JSON, its quotes included. */
function textHash(text: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) h = Math.imul(h ^ text[k]!, 0x01000193);
  return h >>> 0;
}

/** `textHash` of JSON.stringify(relPath)'s UTF-8 bytes; plain ASCII (nothing escaped) hashed from its characters. */
function pathHash(relPath: string): number {
  let h = Math.imul(0x811c9dc5 ^ 0x22, 0x01000193);
  for (let k = 0; k < relPath.length; k++) {
    const c = relPath.charCodeAt(k);
    if (c >= 127 || c < 32 || c === 34 || c === 92) {
      const json = Buffer.from(JSON.stringify(relPath));
      return textHash(json, 0, json.length);
    }
    h = Math.imul(h ^ c, 0x01000193);
  }
  return Math.imul(h ^ 0x22, 0x01000193) >>> 0;
}

const EXPECT_PATHS = Buffer.from('{"paths":[');
/** Hex digits of one row's xxh64. */
const HASH_CHARS = 16;
const NUMBER_KEYS = ['size', 'mtime', 'ctime', 'ino'] as const;

/**
 * Stat cache files from which they are read into `StoredRows` (the 1M-file cache is 78 MB; the 100k-file bench
 * game's, 7.8 MB, is read as JSON: faster there, and its strings are few). Settable for tests.
 */
export const compactRows = { minBytes: 16 << 20 };

/**
 * The rows of a stat cache file of `format` whose body is what its writer writes (the columns in its order, no
 * space), read a MiB at a time; `undefined` when the file is anything else (missing, another format, another
 * layout, a wrong checksum) or smaller than `compactRows.minBytes`: the caller then reads it the general way.
 */
export function readStatRows(file: string, format: string, chunkSize = 1 << 20): StoredRows | undefined {
  // A FIFO in the cache's place is opened at once, and left to the JSON reader to refuse by its kind.
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return undefined;
  try {
    if (opened.size < compactRows.minBytes) return undefined;
    return readRows(opened.fd, format, chunkSize);
  } catch (e) {
    if (e instanceof NotThisLayout) return undefined;
    throw e;
  } finally {
    closeSync(opened.fd);
  }
}

class NotThisLayout extends Error {}

/**
 * Characters of number text parsed at once: a piece, the array JSON.parse makes of it and the strings on the way
 * stay below V8's regular object size (128 KiB), so they die in the young generation. Pieces of a MiB lived in the
 * large-object space until a full GC: with the growing copies of the paths' text and of the list of their ends, about
 * 110 MiB of garbage and spare room beside the 68 MiB of rows of a 1M-file cache (issue 17 item 2, stop 43).
 */
const NUMBER_PIECE = 32 << 10;

/** A file read a chunk at a time from its start; the bytes from `hashFrom` on go to the checksum. */
class ChunkReader {
  readonly buf: Buffer;
  pos = 0;
  n = 0;
  i = 0;
  private bodyFrom = -1;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly fd: number,
    private readonly chunkSize: number,
  ) {
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** The next chunk; false at the file's end. */
  refill(): boolean {
    if (this.bodyFrom >= 0) this.hash.update(this.buf.subarray(this.bodyFrom, this.n));
    this.pos += this.n;
    this.n = readSync(this.fd, this.buf, 0, this.chunkSize, this.pos);
    this.i = 0;
    this.bodyFrom = this.bodyFrom >= 0 ? 0 : -1;
    return this.n > 0;
  }

  /** The next byte of the file, -1 at its end. */
  next(): number {
    return this.i < this.n || this.refill() ? this.buf[this.i++]! : -1;
  }

  expect(bytes: Buffer | string): void {
    for (const c of typeof bytes === 'string' ? Buffer.from(bytes) : bytes) if (this.next() !== c) throw new NotThisLayout();
  }

  /** Hashes the bytes from the current one on. */
  startHash(): void {
    this.bodyFrom = this.i;
  }

  /** The checksum of the bytes read since `startHash` (the whole file must have been read). */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** The header line, {"format":…,"sha256":…}: its checksum, or NotThisLayout. */
function readHeader(r: ChunkReader, format: string): string {
  const header: number[] = [];
  for (let c = r.next(); c !== 0x0a; c = r.next()) {
    if (c < 0 || header.length > 1024) throw new NotThisLayout();
    header.push(c);
  }
  let head: { format?: unknown; sha256?: unknown };
  try {
    head = JSON.parse(Buffer.from(header).toString('utf8')) as typeof head;
  } catch {
    throw new NotThisLayout();
  }
  if (head?.format !== format || typeof head.sha256 !== 'string') throw new NotThisLayout();
  return head.sha256;
}

/**
 * The paths' JSON strings, comma-separated, up to the list's closing bracket: their count and the length of their
 * text (the file's bytes as they are, commas between). With `text` and `ends` (sized by a first walk that passed
 * none), the text is copied there and each path's end noted; a file that grew between the walks is NotThisLayout.
 */
function walkPaths(r: ChunkReader, text?: Buffer, ends?: Int32Array): { count: number; textLength: number } {
  let textLength = 0;
  let count = 0;
  const put = (from: number, to: number) => {
    if (text) {
      if (textLength + to - from > text.length) throw new NotThisLayout();
      r.buf.copy(text, textLength, from, to);
    }
    textLength += to - from;
  };
  const one = (c: number) => {
    if (text) {
      if (textLength >= text.length) throw new NotThisLayout();
      text[textLength] = c;
    }
    textLength++;
  };
  let c = r.next();
  if (c === 0x5d) return { count, textLength };
  for (;;) {
    if (c !== 0x22) throw new NotThisLayout();
    one(c);
    // The string's bytes up to its closing quote, a run at a time.
    for (;;) {
      if (r.i >= r.n && !r.refill()) throw new NotThisLayout();
      const buf = r.buf;
      let k = r.i;
      while (k < r.n && buf[k] !== 0x22 && buf[k] !== 0x5c) k++;
      put(r.i, k);
      r.i = k;
      if (r.i >= r.n) continue;
      const q = buf[r.i++]!;
      one(q);
      if (q === 0x22) break;
      // A backslash: the escaped byte is copied as it is.
      const esc = r.next();
      if (esc < 0) throw new NotThisLayout();
      one(esc);
    }
    if (ends) {
      if (count >= ends.length) throw new NotThisLayout();
      ends[count] = textLength;
    }
    count++;
    c = r.next();
    if (c === 0x5d) return { count, textLength };
    if (c !== 0x2c) throw new NotThisLayout();
    one(c);
    c = r.next();
  }
}

/** A column of `count` numbers up to its closing bracket, parsed a piece at a time (cut at a comma). */
function readNumbers(r: ChunkReader, count: number): Float64Array {
  const out = new Float64Array(count);
  let filled = 0;
  let carry = '';
  for (;;) {
    if (r.i >= r.n && !r.refill()) throw new NotThisLayout();
    const buf = r.buf;
    const to = Math.min(r.n, r.i + NUMBER_PIECE);
    // Looked for within the piece only: a search to the chunk's end per piece read the chunk many times over.
    let close = buf.subarray(r.i, to).indexOf(0x5d);
    if (close >= 0) close += r.i;
    let piece = carry + buf.toString('latin1', r.i, close >= 0 ? close : to);
    r.i = close >= 0 ? close + 1 : to;
    if (close < 0) {
      const cut = piece.lastIndexOf(',');
      carry = piece.slice(cut + 1);
      piece = cut >= 0 ? piece.slice(0, cut) : '';
    }
    if (piece) {
      let values: unknown[];
      try {
        values = JSON.parse(`[${piece}]`) as unknown[];
      } catch {
        throw new NotThisLayout();
      }
      for (const v of values) {
        if (typeof v !== 'number' || filled === count) throw new NotThisLayout();
        out[filled++] = v;
      }
    }
    if (close >= 0) break;
  }
  if (filled !== count) throw new NotThisLayout();
  return out;
}

/** `count` hashes of 16 hex digits, one string up to its closing quote, copied as bytes. */
function readHashes(r: ChunkReader, count: number): Buffer {
  const hex = Buffer.allocUnsafeSlow(count * HASH_CHARS);
  let at = 0;
  for (;;) {
    if (r.i >= r.n && !r.refill()) throw new NotThisLayout();
    const buf = r.buf;
    let k = r.i;
    for (; k < r.n; k++) {
      const c = buf[k]!;
      if (c === 0x22) break;
      // 0-9, a-f: nothing else is a hash digit.
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) || at === hex.length) throw new NotThisLayout();
      hex[at++] = c;
    }
    r.i = k;
    if (k < r.n) {
      r.i++;
      break;
    }
  }
  if (at !== hex.length) throw new NotThisLayout();
  return hex;
}

/**
 * Two walks: the first counts the paths and measures their text, the second reads the whole file into room of
 * exactly that size (a text grown by doubling, and a list of ends, left their copies in the allocator), checking
 * the checksum on the way. Only the second walk's bytes are kept, and only once they are checked.
 */
function readRows(fd: number, format: string, chunkSize: number): StoredRows | undefined {
  const first = new ChunkReader(fd, chunkSize);
  readHeader(first, format);
  first.expect(EXPECT_PATHS);
  const { count, textLength } = walkPaths(first);
  const r = new ChunkReader(fd, chunkSize);
  const sha256 = readHeader(r, format);
  r.startHash();
  r.expect(EXPECT_PATHS);
  const text = Buffer.allocUnsafeSlow(textLength);
  const ends = new Int32Array(count);
  const walked = walkPaths(r, text, ends);
  if (walked.count !== count || walked.textLength !== textLength) throw new NotThisLayout();
  const columns: Float64Array[] = [];
  for (const key of NUMBER_KEYS) {
    r.expect(`,"${key}":[`);
    columns.push(readNumbers(r, count));
  }
  r.expect(',"xxh64":"');
  const hex = readHashes(r, count);
  r.expect('}');
  if (r.next() !== -1) throw new NotThisLayout();
  if (r.digest() !== sha256) throw new NotThisLayout();
  return new StoredRows(text, ends, columns[0]!, columns[1]!, columns[2]!, columns[3]!, hex);
}
