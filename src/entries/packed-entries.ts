// A tree's entries packed in columns (issue 17 item 2; docs/architecture.md "Memory of a cold build", round 6): about
// 35 bytes an entry instead of a `FileEntry` object, its path string and a list slot (about 105 bytes). A cold
// build's scan of a large tree fills one (src/scan/scan.ts), and the manifest's `entries` read it through a list
// view (src/entries/packed-list.ts); its encodings are held equal to the object form's (manifest digest, record JSON)
// by test/packed-entries.test.ts.
import { createHash, type Hash } from 'node:crypto';
import type { FileEntry } from '../types.js';
import type { EntrySource } from './entry-source.js';
import { putHashedLine } from './hashed-lines.js';

const TYPES: readonly FileEntry['type'][] = ['file', 'dir', 'symlink'];
/** `hashKind` values: no xxh64, 16 hex digits (held as 8 bytes), any other string (a pending mark; held aside). */
const NO_HASH = 0;
const HEX_HASH = 1;
const OTHER_HASH = 2;
/** A file whose hash the layer writer fills (src/scan/pending.ts): reads as the store's one `pendingMark`. */
const PENDING_HASH = 3;
const HEX16 = /^[0-9a-f]{16}$/;

/** A growable typed column: doubles its buffer while appending, cut to its length by `seal`. */
class Grow<T extends Int32Array | Uint8Array | Uint16Array | Float64Array | BigUint64Array> {
  data: T;
  length = 0;
  constructor(readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  /** Room for `n` elements at least, in one buffer (no doubling on the way, nor a cut at the end when `n` is exact). */
  reserve(n: number): void {
    if (n <= this.data.length) return;
    const bigger = this.make(n);
    bigger.set(this.data.subarray(0, this.length) as never);
    this.data = bigger;
  }
  room(): void {
    if (this.length < this.data.length) return;
    const bigger = this.make(this.data.length * 2);
    bigger.set(this.data as never);
    this.data = bigger;
  }
  seal(): void {
    if (this.data.length !== this.length) this.data = this.data.slice(0, this.length) as T;
  }
}

export class PackedEntries implements EntrySource {
  /** Every folder an entry lies in is itself an entry (the scan added them): a one-layer plan need not check again. */
  foldersListed = false;
  /** Folder paths ('' for the tree's root), each once; `folder[i]` indexes them. */
  private readonly folders: string[] = [];
  private readonly folderIndex = new Map<string, number>();
  private readonly folder = new Grow((n) => new Int32Array(n));
  /** The names' UTF-8 bytes, one after another; `nameEnd[i]` is where entry i's ends. */
  private names = Buffer.allocUnsafe(1 << 16);
  private namesLength = 0;
  private readonly nameEnd = new Grow((n) => new Int32Array(n));
  private readonly typeCode = new Grow((n) => new Uint8Array(n));
  private readonly modes = new Grow((n) => new Uint16Array(n));
  private readonly sizes = new Grow((n) => new Float64Array(n));
  private readonly hashKind = new Grow((n) => new Uint8Array(n));
  private readonly hashes = new Grow((n) => new BigUint64Array(n));
  /** The few values that fit no column: link targets, non-hex hash strings (pending marks). */
  private readonly cols = [this.folder, this.nameEnd, this.typeCode, this.modes, this.sizes, this.hashKind, this.hashes];
  private readonly linkTargets = new Map<number, string>();
  private readonly otherHashes = new Map<number, string>();
  /** What every pending entry's `xxh64` reads as: `''` while the scan walks, then the scan's pending mark. */
  pendingMark = '';
  private lastFolder = -1;
  private lastSlash = -1;
  private lastBits = -1n;
  private lastHex: string | undefined;
  /** The entries as objects, once some reader needed them so (a tree cut into several layers): kept in step. */
  materialized?: FileEntry[];

  static from(entries: readonly FileEntry[]): PackedEntries {
    const p = new PackedEntries();
    for (const e of entries) p.append(e);
    return p.seal();
  }

  get length(): number {
    return this.sizes.length;
  }

  /**
   * Room for `n` entries in every column, when the count is known before the entries (a record's list): its columns
   * grow by doubling otherwise, and are cut to their length at the end, each step a copy (at 1M entries the old
   * and new columns side by side were 50 MiB more at the moment, left in the allocator's free lists afterwards).
   */
  reserve(n: number): this {
    for (const c of this.cols) c.reserve(n);
    return this;
  }

  /** Adds an entry at the end; returns its index. */
  append(e: Readonly<FileEntry>): number {
    const i = this.length;
    const slash = e.path.lastIndexOf('/');
    // A walk gives a folder's entries one after another: the last folder is checked before the map.
    let f = this.lastFolder;
    if (f < 0 || slash !== this.lastSlash || !e.path.startsWith(this.folders[f]!)) {
      const dir = slash < 0 ? '' : e.path.slice(0, slash);
      f = this.folderIndex.get(dir) ?? -1;
      if (f < 0) {
        f = this.folders.length;
        this.folders.push(dir);
        this.folderIndex.set(dir, f);
      }
      this.lastFolder = f;
      this.lastSlash = slash;
    }
    const path = e.path;
    // At most 3 UTF-8 bytes per UTF-16 code unit: room checked without measuring the name first.
    const need = this.namesLength + (path.length - slash - 1) * 3;
    if (need > this.names.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.names.length * 2));
      this.names.copy(bigger, 0, 0, this.namesLength);
      this.names = bigger;
    }
    // An ASCII name is copied a code unit a byte, without a native call or a string for the name; the rest of a
    // name from its first other character is written as UTF-8.
    const names = this.names;
    let at = this.namesLength;
    let k = slash + 1;
    for (; k < path.length; k++) {
      const c = path.charCodeAt(k);
      if (c >= 128) break;
      names[at++] = c;
    }
    if (k < path.length) at += names.write(path.slice(k), at, 'utf8');
    this.namesLength = at;
    // Every column has the same room (they grow together).
    if (i === this.sizes.data.length) for (const c of this.cols) c.room();
    this.folder.data[i] = f;
    this.nameEnd.data[i] = this.namesLength;
    this.typeCode.data[i] = TYPES.indexOf(e.type);
    this.modes.data[i] = e.mode;
    this.sizes.data[i] = e.size;
    this.putHash(i, e.xxh64);
    if (e.linkTarget !== undefined) this.linkTargets.set(i, e.linkTarget);
    const cols = this.cols;
    for (let c = 0; c < cols.length; c++) cols[c]!.length = i + 1;
    return i;
  }

  /** Cuts every column to its length: no spare room is kept once the entries are all in. */
  seal(): this {
    for (const c of this.columns()) c.seal();
    if (this.names.length !== this.namesLength) this.names = Buffer.from(this.names.subarray(0, this.namesLength));
    this.folderIndex.clear();
    return this;
  }

  /**
   * The entries in manifest order (bytewise path order, as `sortEntries`), as a new sealed store. The path strings
   * exist only while sorting; the columns are copied by index.
   */
  sorted(): PackedEntries {
    return this.permuted(this.sortOrder());
  }

  /**
   * The indexes in manifest order (bytewise path order, ties in index order), compared on the paths' UTF-8 bytes
   * where they are held, the folder's prefix and the name: no path string is made (1M of them were about 40 MiB,
   * promoted while sorting), nor a copy of every path's bytes (23 MiB on 1M entries, and its making cost as much as
   * the sort).
   */
  sortOrder(): Int32Array {
    const n = this.length;
    const prefixes = this.folders.map((f) => Buffer.from(f === '' ? '' : `${f}/`, 'utf8'));
    const names = this.names;
    const nameEnd = this.nameEnd.data;
    const folder = this.folder.data;
    /** Name bytes [x, xe) against name bytes [y, ye). */
    const compareNames = (x: number, xe: number, y: number, ye: number): number => {
      for (; x < xe && y < ye; x++, y++) {
        const d = names[x]! - names[y]!;
        if (d !== 0) return d;
      }
      return xe - x - (ye - y);
    };
    /** Name bytes [x, xe) against `prefix` from `from` followed by name bytes [y, ye). */
    const compareToPrefixed = (x: number, xe: number, prefix: Buffer, from: number, y: number, ye: number): number => {
      for (; x < xe && from < prefix.length; x++, from++) {
        const d = names[x]! - prefix[from]!;
        if (d !== 0) return d;
      }
      return from < prefix.length ? -1 : compareNames(x, xe, y, ye);
    };
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort((a, b) => {
      const x = a === 0 ? 0 : nameEnd[a - 1]!;
      const y = b === 0 ? 0 : nameEnd[b - 1]!;
      const fa = folder[a]!;
      const fb = folder[b]!;
      // One folder (most comparisons): the same prefix, the names decide.
      if (fa === fb) return compareNames(x, nameEnd[a]!, y, nameEnd[b]!) || a - b;
      // Two folders: their prefixes, as far as the shorter goes; past it, the shorter one's name goes on against
      // the rest of the longer prefix ("a/" + "x" against "a/b/" + "y").
      const pa = prefixes[fa]!;
      const pb = prefixes[fb]!;
      const m = Math.min(pa.length, pb.length);
      for (let k = 0; k < m; k++) {
        const d = pa[k]! - pb[k]!;
        if (d !== 0) return d;
      }
      if (pa.length <= pb.length) return compareToPrefixed(x, nameEnd[a]!, pb, m, y, nameEnd[b]!) || a - b;
      return -compareToPrefixed(y, nameEnd[b]!, pa, m, x, nameEnd[a]!) || a - b;
    });
  }

  /** A new sealed store of entry `order[j]` at j. */
  permuted(order: Int32Array): PackedEntries {
    const out = new PackedEntries();
    out.folders.push(...this.folders);
    out.pendingMark = this.pendingMark;
    out.foldersListed = this.foldersListed;
    out.names = Buffer.allocUnsafe(this.namesLength);
    for (const c of out.columns()) c.data = c.make(order.length) as never;
    const names = this.names;
    const outNames = out.names;
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      const start = i === 0 ? 0 : this.nameEnd.data[i - 1]!;
      const end = this.nameEnd.data[i]!;
      // A name is a few bytes: copied in a loop, not a native call each.
      let at = out.namesLength;
      for (let k = start; k < end; k++) outNames[at++] = names[k]!;
      out.namesLength = at;
      out.folder.data[j] = this.folder.data[i]!;
      out.nameEnd.data[j] = out.namesLength;
      out.typeCode.data[j] = this.typeCode.data[i]!;
      out.modes.data[j] = this.modes.data[i]!;
      out.sizes.data[j] = this.sizes.data[i]!;
      out.hashKind.data[j] = this.hashKind.data[i]!;
      out.hashes.data[j] = this.hashes.data[i]!;
      const other = this.otherHashes.get(i);
      if (other !== undefined) out.otherHashes.set(j, other);
      const t = this.linkTargets.get(i);
      if (t !== undefined) out.linkTargets.set(j, t);
    }
    for (const c of out.columns()) c.length = order.length;
    return out.seal();
  }

  /** Entries `order[j]` (in that order) as a new sealed store: part of this one, whose folders it need not list. */
  subset(order: Int32Array): PackedEntries {
    const out = this.permuted(order);
    out.foldersListed = false;
    return out;
  }

  /** Folder paths that entries lie in ('' for the root), each once. */
  folderPaths(): readonly string[] {
    return this.folders;
  }

  /** The entries as objects (`entry(i)` each), made once and kept; later `setXxh64` calls update them too. */
  materialize(): FileEntry[] {
    if (!this.materialized) {
      const out: FileEntry[] = [];
      for (let i = 0; i < this.length; i++) out.push(this.entry(i));
      this.materialized = out;
    }
    return this.materialized;
  }

  /** The symbolic links, as objects (links are few). */
  *links(): Generator<FileEntry> {
    for (const i of [...this.linkTargets.keys()].sort((a, b) => a - b)) yield this.entry(i);
  }

  /** Files and their bytes. */
  fileTotals(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.typeCode.data[i] !== 0) continue;
      files++;
      bytes += this.sizes.data[i]!;
    }
    return { files, bytes };
  }

  /** Entries other than files of `size` bytes or more, and their bytes. */
  entriesBelow(size: number): { entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.typeCode.data[i] === 0 && this.sizes.data[i]! >= size) continue;
      entries++;
      bytes += this.sizes.data[i]!;
    }
    return { entries, bytes };
  }

  /** True when some file has at least `size` bytes. */
  hasFileOf(size: number): boolean {
    for (let i = 0; i < this.length; i++) if (this.typeCode.data[i] === 0 && this.sizes.data[i]! >= size) return true;
    return false;
  }

  /** True while some entry still reads as pending. */
  nonFolderTotals(): { entries: number; bytes: number } {
    const dir = TYPES.indexOf('dir');
    let entries = 0;
    let bytes = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.typeCode.data[i] === dir) continue;
      entries++;
      bytes += this.sizes.data[i]!;
    }
    return { entries, bytes };
  }

  hasPending(): boolean {
    return this.hashKind.data.subarray(0, this.length).includes(PENDING_HASH);
  }

  /** Every folder an entry lies in is an entry (or the root): known once the scan added them (`foldersListed`). */
  listsEveryFolder(): boolean {
    if (this.foldersListed) return true;
    const listed = new Set<string>(['']);
    for (let i = 0; i < this.length; i++) if (this.typeCode.data[i] !== 0) listed.add(this.path(i));
    return this.folders.every((f) => listed.has(f));
  }

  /** A pending file (its hash is the store's one `pendingMark`): all of them now read as `mark`. */
  markPending(i: number, mark: string): boolean {
    if (this.hashKind.data[i] !== PENDING_HASH || this.typeCode.data[i] !== 0) return false;
    this.pendingMark = mark;
    return true;
  }

  /** The entries one at a time, each made from the columns. */
  *each(): Generator<FileEntry> {
    for (let i = 0; i < this.length; i++) yield this.entry(i);
  }

  /** Entry i has `entry`'s path (an object made from entry i equals it, but is never the same object). */
  holds(i: number, entry: FileEntry): boolean {
    return this.pathIs(i, entry.path);
  }

  private columns(): Grow<Int32Array | Uint8Array | Uint16Array | Float64Array | BigUint64Array>[] {
    return this.cols;
  }

  /** The name's UTF-8 bytes (for a tar header, without making a string). */
  nameBytes(i: number): Buffer {
    return this.names.subarray(i === 0 ? 0 : this.nameEnd.data[i - 1]!, this.nameEnd.data[i]!);
  }

  path(i: number): string {
    const dir = this.folders[this.folder.data[i]!]!;
    const name = this.names.toString('utf8', i === 0 ? 0 : this.nameEnd.data[i - 1]!, this.nameEnd.data[i]!);
    return dir === '' ? name : `${dir}/${name}`;
  }

  /** True when entry i's path is `path`: compared on the name's bytes where it is ASCII, no string made. */
  pathIs(i: number, path: string): boolean {
    const dir = this.folders[this.folder.data[i]!]!;
    let at = 0;
    if (dir !== '') {
      if (path.charCodeAt(dir.length) !== 47 || !path.startsWith(dir)) return false;
      at = dir.length + 1;
    }
    const start = i === 0 ? 0 : this.nameEnd.data[i - 1]!;
    const bytes = this.nameEnd.data[i]! - start;
    const chars = path.length - at;
    // UTF-8 takes at least a byte per code unit, exactly one only for ASCII.
    if (chars > bytes) return false;
    if (chars < bytes) return this.path(i) === path;
    for (let k = 0; k < chars; k++) {
      const c = path.charCodeAt(at + k);
      if (c >= 128) return this.path(i) === path;
      if (c !== this.names[start + k]) return false;
    }
    return true;
  }

  type(i: number): FileEntry['type'] {
    return TYPES[this.typeCode.data[i]!]!;
  }

  mode(i: number): number {
    return this.modes.data[i]!;
  }

  size(i: number): number {
    return this.sizes.data[i]!;
  }

  xxh64(i: number): string | undefined {
    const kind = this.hashKind.data[i];
    if (kind === NO_HASH) return undefined;
    if (kind === OTHER_HASH) return this.otherHashes.get(i)!;
    if (kind === PENDING_HASH) return this.pendingMark;
    // Many entries share a hash (every empty file): the last one's text is kept, no BigInt-to-text each time.
    const bits = this.hashes.data[i]!;
    if (bits !== this.lastBits) {
      this.lastBits = bits;
      this.lastHex = bits.toString(16).padStart(16, '0');
    }
    return this.lastHex!;
  }

  /** Sets entry i's xxh64 (the layer writer filling a pending hash). */
  setXxh64(i: number, xxh64: string | undefined): void {
    this.otherHashes.delete(i);
    this.putHash(i, xxh64);
    const e = this.materialized?.[i];
    if (e) e.xxh64 = xxh64;
  }

  /** Sets entry i's size and mode (a file that changed while the scan hashed it, hashed again as it is now). */
  setSizeAndMode(i: number, size: number, mode: number): void {
    this.sizes.data[i] = size;
    this.modes.data[i] = mode;
    const e = this.materialized?.[i];
    if (e) {
      e.size = size;
      e.mode = mode;
    }
  }

  linkTarget(i: number): string | undefined {
    return this.linkTargets.size === 0 ? undefined : this.linkTargets.get(i);
  }

  /** Entry i as the object the rest of gamelayer reads (fields in the scan's order). */
  entry(i: number): FileEntry {
    const e: FileEntry = { path: this.path(i), type: this.type(i), mode: this.mode(i), size: this.size(i) };
    const h = this.xxh64(i);
    if (h !== undefined) e.xxh64 = h;
    const t = this.linkTarget(i);
    if (t !== undefined) e.linkTarget = t;
    return e;
  }

  /**
   * `hashEntries` of the entries: every entry's `encodePacked` line fed to `h`, in chunks. A line whose name needs
   * no JSON escape (printable ASCII but `"` and `\\`) and that has no link target or odd hash is written as bytes from
   * the columns (the folder's JSON head, the name's bytes, a tail shared by runs of equal ones): no path string.
   */
  hashLines(h: Hash): Hash {
    const heads = this.folders.map((f) => Buffer.from(`[${JSON.stringify(f === '' ? '' : `${f}/`).slice(0, -1)}`, 'utf8'));
    const names = this.names;
    const nameEnd = this.nameEnd.data;
    const out = Buffer.allocUnsafe(1 << 16);
    /** Room for a line's tail: `","symlink",65535,<size>,"<hash or pending mark>",""]\n`. */
    const TAIL_ROOM = 128 + this.pendingMark.length;
    let at = 0;
    let tail = '';
    let lastType = -1;
    let lastMode = -1;
    let lastSize = -1;
    let lastHash = '';
    for (let i = 0; i < this.length; i++) {
      const start = i === 0 ? 0 : nameEnd[i - 1]!;
      const end = nameEnd[i]!;
      const head = heads[this.folder.data[i]!]!;
      if (at + head.length + (end - start) + TAIL_ROOM > out.length) {
        h.update(out.subarray(0, at));
        at = 0;
      }
      const kind = this.hashKind.data[i]!;
      let plain = kind !== OTHER_HASH && (this.linkTargets.size === 0 || !this.linkTargets.has(i)) && head.length + (end - start) + TAIL_ROOM <= out.length;
      const lineStart = at;
      if (plain) {
        at += head.copy(out, at);
        for (let k = start; k < end; k++) {
          const c = names[k]!;
          if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
            plain = false;
            break;
          }
          out[at++] = c;
        }
      }
      if (!plain) {
        at = putHashedLine(h, out, lineStart, encodePacked(this, i));
        continue;
      }
      const type = this.typeCode.data[i]!;
      const mode = this.modes.data[i]!;
      const size = this.sizes.data[i]!;
      const hash = this.xxh64(i) ?? '';
      if (type !== lastType || mode !== lastMode || size !== lastSize || hash !== lastHash) {
        lastType = type;
        lastMode = mode;
        lastSize = size;
        lastHash = hash;
        tail = `","${TYPES[type]!}",${mode},${size},"${hash}",""]\n`;
      }
      at += out.write(tail, at, 'latin1');
    }
    return h.update(out.subarray(0, at));
  }

  /** Each folder's path as the UTF-8 bytes a path starts with (`dir/`, or none for the root); made once a folder is asked. */
  private prefixes: Buffer[] = [];

  private prefixBytes(f: number): Buffer {
    let b = this.prefixes[f];
    if (b === undefined) {
      const dir = this.folders[f]!;
      this.prefixes[f] = b = Buffer.from(dir === '' ? '' : `${dir}/`, 'utf8');
    }
    return b;
  }

  /**
   * Entry i's path against entry j's of `other` (another store or this one), as `compareBytewise` of the two paths:
   * compared on their UTF-8 bytes (a folder's prefix, then the name), no string made. UTF-8 byte order is code point
   * order, which compareBytewise gives.
   */
  comparePath(i: number, other: PackedEntries, j: number): number {
    const fa = this.folder.data[i]!;
    const fb = other.folder.data[j]!;
    let x = i === 0 ? 0 : this.nameEnd.data[i - 1]!;
    const xe = this.nameEnd.data[i]!;
    let y = j === 0 ? 0 : other.nameEnd.data[j - 1]!;
    const ye = other.nameEnd.data[j]!;
    const an = this.names;
    const bn = other.names;
    if (!(other === this && fa === fb)) {
      const pa = this.prefixBytes(fa);
      const pb = other.prefixBytes(fb);
      if (!pa.equals(pb)) {
        // The prefixes as far as the shorter goes; then its name goes on against the rest of the longer prefix.
        const m = Math.min(pa.length, pb.length);
        for (let k = 0; k < m; k++) {
          const d = pa[k]! - pb[k]!;
          if (d !== 0) return d;
        }
        if (pa.length < pb.length) {
          for (let k = m; k < pb.length; k++, x++) {
            if (x >= xe) return -1;
            const d = an[x]! - pb[k]!;
            if (d !== 0) return d;
          }
        } else {
          for (let k = m; k < pa.length; k++, y++) {
            if (y >= ye) return 1;
            const d = pa[k]! - bn[y]!;
            if (d !== 0) return d;
          }
        }
      }
    }
    for (; x < xe && y < ye; x++, y++) {
      const d = an[x]! - bn[y]!;
      if (d !== 0) return d;
    }
    return xe - x - (ye - y);
  }

  /** `sameEntry(this.entry(i), other.entry(j))` from the columns: type, mode, size, xxh64 and link target. */
  sameEntryAs(i: number, other: PackedEntries, j: number): boolean {
    if (this.typeCode.data[i] !== other.typeCode.data[j] || this.modes.data[i] !== other.modes.data[j] || this.sizes.data[i] !== other.sizes.data[j]) return false;
    const ka = this.hashKind.data[i];
    const kb = other.hashKind.data[j];
    if (ka === HEX_HASH && kb === HEX_HASH) {
      if (this.hashes.data[i] !== other.hashes.data[j]) return false;
    } else if (this.xxh64(i) !== other.xxh64(j)) return false;
    return this.linkTarget(i) === other.linkTarget(j);
  }

  /** True when entry i's name starts with `.wh.` (a whiteout as the planner writes it), read from its bytes. */
  isWhiteoutAt(i: number): boolean {
    const start = i === 0 ? 0 : this.nameEnd.data[i - 1]!;
    const n = this.names;
    return this.nameEnd.data[i]! - start >= 4 && n[start] === 0x2e && n[start + 1] === 0x77 && n[start + 2] === 0x68 && n[start + 3] === 0x2e;
  }

  /** Whether the paths are in strictly increasing bytewise order (and, if asked, no name is a whiteout's), from the columns. */
  inPathOrder(noWhiteouts: boolean): boolean {
    for (let i = 0; i < this.length; i++) {
      if (noWhiteouts && this.isWhiteoutAt(i)) return false;
      if (i > 0 && this.comparePath(i - 1, this, i) >= 0) return false;
    }
    return true;
  }

  /** Bytes held by the columns (not counting the folder strings and the sparse maps). */
  get columnBytes(): number {
    return this.namesLength + this.columns().reduce((n, c) => n + c.data.byteLength, 0);
  }

  private putHash(i: number, xxh64: string | undefined): void {
    if (xxh64 === undefined) {
      this.hashKind.data[i] = NO_HASH;
    } else if (xxh64 === this.pendingMark) {
      this.hashKind.data[i] = PENDING_HASH;
    } else if (xxh64 === this.lastHex) {
      this.hashKind.data[i] = HEX_HASH;
      this.hashes.data[i] = this.lastBits;
    } else if (HEX16.test(xxh64)) {
      this.hashKind.data[i] = HEX_HASH;
      this.hashes.data[i] = BigInt(`0x${xxh64}`);
    } else {
      this.hashKind.data[i] = OTHER_HASH;
      this.otherHashes.set(i, xxh64);
    }
  }
}

/** `encodeEntry` of entry i, from the columns: the line the manifest digest hashes. */
export function encodePacked(p: PackedEntries, i: number): string {
  const t = p.linkTarget(i);
  return `[${JSON.stringify(p.path(i))},"${p.type(i)}",${p.mode(i)},${p.size(i)},"${p.xxh64(i) ?? ''}",${t === undefined ? '""' : JSON.stringify(t)}]\n`;
}

/** `entriesDigest` of the store's entries, without making their objects. */
export function packedDigest(p: PackedEntries): string {
  return `sha256:${hashPacked(createHash('sha256'), p).digest('hex')}`;
}

/** `hashEntries` of the store's entries: the same lines fed to `h`, in chunks. */
export function hashPacked(h: Hash, p: PackedEntries): Hash {
  return p.hashLines(h);
}
