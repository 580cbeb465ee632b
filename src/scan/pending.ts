// Files whose xxh64 the scan left to the layer writer (docs/architecture.md "One read per file"): in a build that
// packs every file it misses in the stat cache anyway (no previous build to diff against, no layer cache to look
// keys up in), the scan records their stat only; the layer writer hashes the very bytes it packs and fills the entry,
// the stat cache and, once every file is in, the manifest's digest. A cold build then reads each file once.
import { compareBytewise, entriesDigest } from './manifest.js';
import { hashFile, type StatSnapshot } from './hash.js';
import type { StatCache } from './stat-cache.js';
import { entrySourceOf, PENDING_MARK, type EntrySource } from '../entries/packed-list.js';
import type { FileEntry, TreeManifest } from '../types.js';

export { isPendingHash } from '../entries/packed-list.js';
let nextScan = 0;

/**
 * The pending files of one tree scan. An entry's `xxh64` holds this scan's mark `~<scan>` until it is filled: one
 * string shared by every pending entry of the scan (a string per entry cost 32 bytes each, 32 MiB on 1M files), and
 * unique per scan, so two trees with the same paths and sizes never share a planned layer key, and no key holding a
 * mark is ever a cache hit (none is ever stored: the layers step keys a layer again once its files are hashed).
 *
 * An entry finds its slot (its place in the stat cache's reserved files, in walk order) through its place in the
 * manifest: the stat cache holds each slot's place in `manifest.entries` (an Int32 each, not a reference), and
 * `slotAt` the way back (4 bytes an entry). The place is found by path (binary search), starting next to the places
 * found last, since the layer writer takes each layer's entries in manifest order.
 */
export class PendingHashes {
  private readonly id = nextScan++;
  private readonly mark = `${PENDING_MARK}${this.id}`;
  private readonly prefix: string;
  private left: number;
  private readonly filled: Uint8Array;
  /**
   * The manifest's entries (set by `markAll`): their paths, whether a place holds an entry (by identity in a list,
   * by path in a packed store, whose entries are views made on each read), and where hashes go.
   */
  private entries?: EntrySource;
  /** `slotAt[place]`: the pending slot of `entries[place]`, or -1. */
  private slotAt = new Int32Array(0);
  /** Places found last; the next entry of a layer is usually one past one of them. */
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

  /**
   * Marks every reserved file pending; called by the scan once the manifest's entries are in their order and the
   * stat cache's places point into them (`StatCache.moveTo`).
   */
  markAll(): void {
    const entries = entrySourceOf(this.manifest.entries);
    const slotAt = new Int32Array(entries.length).fill(-1);
    // Each reserved entry now reads as this scan's mark (a packed store's files share one).
    for (let slot = 0; slot < this.cache.reservedCount; slot++) {
      const place = this.cache.reservedPlace(slot);
      if (place >= entries.length || !entries.markPending(place, this.mark)) {
        throw new Error(`pending hashes of ${this.label}: the stat cache's slot ${slot} is not a file of the manifest waiting for its hash at ${place}`);
      }
      slotAt[place] = slot;
    }
    this.entries = entries;
    this.slotAt = slotAt;
    this.manifest.digest = `pending:${this.id}`;
    // No file is reserved any more: their stats (24 bytes a file) wait in a file for the layer writer and the save.
    this.cache.spillReserved();
  }

  get count(): number {
    return this.cache.reservedCount;
  }

  /** The pending slot of `entry` in this scan, or -1 (hashed, or another scan's). */
  slotOf(entry: FileEntry): number {
    if (entry.xxh64 !== this.mark) return -1;
    const place = this.placeOf(entry);
    if (place < 0) return -1;
    const slot = this.slotAt[place]!;
    return slot >= 0 && this.filled[slot] === 0 ? slot : -1;
  }

  /**
   * Where `entry` is in the manifest's entries, or -1: one past a recent place first (the layer writer takes a
   * layer's entries in manifest order), else by binary search over the paths.
   */
  private placeOf(entry: FileEntry): number {
    const entries = this.entries;
    if (!entries) return -1;
    const n = entries.length;
    for (const p of this.recent) {
      if (p + 1 >= 0 && p + 1 < n && entries.holds(p + 1, entry)) return this.found(p + 1);
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytewise(entries.path(mid), entry.path);
      if (c === 0) return entries.holds(mid, entry) ? this.found(mid) : -1;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private found(place: number): number {
    // The layer just continued from one of the recent places: replace that one; else the oldest.
    const i = this.recent.indexOf(place - 1);
    this.recent[i >= 0 ? i : this.nextRecent++ & 3] = place;
    return place;
  }

  /** The stat the walk saw for the slot's file: what its bytes must still match once read. */
  before(slot: number): StatSnapshot {
    const k = this.cache.reservedKey(slot);
    return { size: k[0], mtimeMs: k[1], ctimeMs: k[2] };
  }

  /** Absolute path of the slot's file. */
  file(slot: number): string {
    return this.prefix + this.cache.reservedPath(slot);
  }

  /** The slot's file hashed to `xxh64` (from bytes read in full, under the stat of `before`), reading began at `startedAtMs`. */
  fill(slot: number, xxh64: string, startedAtMs: number): void {
    if (this.filled[slot] === 1) return;
    this.entries!.setXxh64(this.cache.reservedPlace(slot), xxh64);
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
