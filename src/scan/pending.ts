// Files whose xxh64 the scan left to the layer writer (docs/architecture.md "One read per file"): in a build that
// packs every file it misses in the stat cache anyway (no previous build to diff against, no layer cache to look
// keys up in), the scan records their stat only; the layer writer hashes the very bytes it packs and fills the entry,
// the stat cache and, once every file is in, the manifest's digest. A cold build then reads each file once.
import { compareBytewise, entriesDigest, NEEDS_CODE_POINT_ORDER } from './manifest.js';
import { hashFile, type StatSnapshot } from './hash.js';
import type { StatCache } from './stat-cache.js';
import type { FileEntry, TreeManifest } from '../types.js';

/** First character of a pending entry's `xxh64`: never a hex digit, so no content source takes it for a hash. */
const MARK = '~';
let nextScan = 0;

/**
 * The pending files of one tree scan. An entry's `xxh64` holds this scan's mark `~<scan>` until it is filled: one
 * string shared by every pending entry of the scan (a string per entry cost 32 bytes each, 32 MiB on 1M files), and
 * unique per scan, so two trees with the same paths and sizes never share a planned layer key, and no key holding a
 * mark is ever a cache hit (none is ever stored: the layers step keys a layer again once its files are hashed).
 *
 * An entry finds its slot (its place in the stat cache's reserved files, in walk order) through `bySlotPath`: the
 * slots sorted in the manifest's path order (4 bytes an entry), searched by path, starting next to the slots found
 * last, since the layer writer takes each layer's entries in that very order.
 */
export class PendingHashes {
  private readonly id = nextScan++;
  private readonly mark = `${MARK}${this.id}`;
  private readonly prefix: string;
  private left: number;
  private readonly filled: Uint8Array;
  /** Slots in bytewise path order: `bySlotPath[r]` is the slot of the r-th pending file in manifest order. */
  private bySlotPath = new Int32Array(0);
  /** Ranks (places in `bySlotPath`) found last; the next entry of a layer is usually one past one of them. */
  private readonly recent = new Int32Array(4).fill(-2);
  private nextRecent = 0;

  constructor(
    /** The tree's manifest; its `digest` is a placeholder until `finish`. */
    readonly manifest: TreeManifest,
    private readonly cache: StatCache,
    root: string,
    /** `app`, `engine (linux/arm64)`: for messages. */
    readonly label: string,
    private readonly save: () => Promise<void>,
    /** The scan's error for a file that cannot be read (gone, permission denied). */
    private readonly readError: (e: unknown, file: string) => unknown,
  ) {
    this.prefix = root.endsWith('/') ? root : `${root}/`;
    this.left = cache.reservedCount;
    this.filled = new Uint8Array(cache.reservedCount);
  }

  /** Marks every reserved file pending; called by the scan before the manifest's entries are sorted and digested. */
  markAll(): void {
    const n = this.cache.reservedCount;
    const order = new Int32Array(n);
    for (let slot = 0; slot < n; slot++) {
      (this.cache.reservedFile(slot) as FileEntry).xxh64 = this.mark;
      order[slot] = slot;
    }
    const path = (slot: number) => this.cache.reservedFile(slot).path;
    // The manifest's own order (sortEntries): native string order unless a path needs code point order.
    let native = true;
    for (let slot = 0; native && slot < n; slot++) native = !NEEDS_CODE_POINT_ORDER.test(path(slot));
    order.sort(native ? (a, b) => (path(a) < path(b) ? -1 : path(a) > path(b) ? 1 : 0) : (a, b) => compareBytewise(path(a), path(b)));
    this.bySlotPath = order;
    this.manifest.digest = `pending:${this.id}`;
  }

  get count(): number {
    return this.cache.reservedCount;
  }

  /** The pending slot of `entry` in this scan, or -1 (hashed, or another scan's). */
  slotOf(entry: FileEntry): number {
    if (entry.xxh64 !== this.mark) return -1;
    const rank = this.rankOf(entry);
    if (rank < 0) return -1;
    const slot = this.bySlotPath[rank]!;
    return this.filled[slot] === 0 ? slot : -1;
  }

  /** Where `entry` is in `bySlotPath` (checked by identity), or -1. */
  private rankOf(entry: FileEntry): number {
    const order = this.bySlotPath;
    const at = (r: number) => this.cache.reservedFile(order[r]!);
    for (const r of this.recent) {
      if (r + 1 >= 0 && r + 1 < order.length && at(r + 1) === entry) return this.found(r + 1);
    }
    let lo = 0;
    let hi = order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytewise(at(mid).path, entry.path);
      if (c === 0) return at(mid) === entry ? this.found(mid) : -1;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private found(rank: number): number {
    // The layer just continued from one of the recent ranks: replace that one; else the oldest.
    const i = this.recent.indexOf(rank - 1);
    this.recent[i >= 0 ? i : this.nextRecent++ & 3] = rank;
    return rank;
  }

  /** The stat the walk saw for the slot's file: what its bytes must still match once read. */
  before(slot: number): StatSnapshot {
    const k = this.cache.reservedKey(slot);
    return { size: k[0], mtimeMs: k[1], ctimeMs: k[2] };
  }

  /** Absolute path of the slot's file. */
  file(slot: number): string {
    return this.prefix + (this.cache.reservedFile(slot) as FileEntry).path;
  }

  /** The slot's file hashed to `xxh64` (from bytes read in full, under the stat of `before`), reading began at `startedAtMs`. */
  fill(slot: number, xxh64: string, startedAtMs: number): void {
    if (this.filled[slot] === 1) return;
    this.cache.reservedFile(slot).xxh64 = xxh64;
    this.cache.record(slot, this.cache.reservedKey(slot), startedAtMs);
    this.filled[slot] = 1;
    this.left--;
  }

  /**
   * Once the layers are written: hashes any file no layer packed (none in a build, where every file lies in a layer;
   * a safety net), then sets the manifest's digest and saves the stat cache. A file that changed since the walk
   * is an error naming it, as in the scan.
   */
  async finish(): Promise<void> {
    for (let slot = 0; this.left > 0 && slot < this.filled.length; slot++) {
      if (this.filled[slot] === 1) continue;
      const startedAt = Date.now();
      try {
        this.fill(slot, await hashFile(this.file(slot), this.before(slot)), startedAt);
      } catch (e) {
        throw this.readError(e, this.file(slot));
      }
    }
    this.manifest.digest = entriesDigest(this.manifest.entries);
    await this.save();
  }
}

/** True while `entry` waits for the layer writer's hash (see PendingHashes). */
export function isPendingHash(entry: Pick<FileEntry, 'xxh64'>): boolean {
  return entry.xxh64 !== undefined && entry.xxh64.charCodeAt(0) === 126;
}
