// inputKey → built layer. A layer whose inputs did not change is never tarred or compressed again.
//
// Two lookups, in order: the exact key (inputKey + compressor with its version and settings + mtime),
// then any earlier layer of the same inputKey, compression kind and mtime whose blob is still in the
// store: its tar bytes (diffID) are the same, so its compressed blob is reused as it is even when the
// compressor changed since (a zlib upgrade must not re-push every layer). Entries whose blob is gone are
// dropped. Stored as checked JSON: a corrupt cache is ignored and rebuilt, never trusted.
//
// Configs beside each other share the state folder, so its cache, but each writes its own store (`store:`): a row
// names the store its blob went to, and a build drops only its own store's rows whose blob is gone. Game B's build
// dropped game A's rows (their blobs are in A's store, not B's), and A's next build packed those layers again.
//
// Builds at the same time on one state folder (two configs, two CI jobs on one workspace) each hold the rows they
// read at their start: a save that wrote those whole replaced the rows the other had saved since, and its next build
// packed those layers again. A save now makes this build's changes again on the rows on disk, under a lock.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { OciStore } from './store.js';
import type { BuiltLayer } from '../types.js';
import { storeFromState } from '../state/last-build.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { diskFullError } from '../util/disk-full.js';
import { fileIdentity } from '../util/file-identity.js';
import { withLock } from '../util/lock-file.js';
import { makeFolders } from '../util/make-folders.js';
import { sweepStaleTemps } from '../util/temp-files.js';
import { blobPath } from './layout.js';

const FORMAT = 'gamelayer-layer-cache/1';

interface CacheRow {
  compressor: string;
  layer: BuiltLayer;
  /** The store the blob was written to, as a record names it (its path from the state folder); absent in older rows. */
  store?: string;
}

/**
 * A change of this cache's rows not yet saved, made again at the save on the rows then on disk: a row put (replacing
 * its store's row of its compressor), or one dropped; `unlessIn`: not when its blob is in that store by then (another
 * build put it back).
 */
type Change = { slot: string; put: CacheRow } | { slot: string; drop: string; unlessIn?: string };

export class LayerCache {
  private saving: Promise<void> = Promise.resolve();
  /** Rows changed since the file was read or last written: a no-op build writes (and fsyncs) nothing. */
  private changed: boolean;
  private changes: Change[] = [];
  /**
   * The rows this build last wrote and the file's identity then: a save finding the file as it left it (no other build
   * saved since; a save renames a new file in, a new inode) makes its changes on these, not on a new read and check of
   * the file (a save follows every layer built).
   */
  private written?: { id: string; rows: Map<string, CacheRow[]> };

  private constructor(
    readonly file: string,
    private readonly stateDir: string,
    private readonly rows: Map<string, CacheRow[]>,
    readonly rejected?: string,
  ) {
    // A rejected file is replaced by the next save even when no row changed.
    this.changed = rejected !== undefined;
  }

  static async open(stateDir: string): Promise<LayerCache> {
    const file = path.join(stateDir, 'cache', 'layers.json');
    // A run killed while it replaced a file of cache/ left its temp file; a later run that writes nothing there
    // (every row already saved) would never sweep it, so the sweep is made here, as the store's at its opening.
    await sweepStaleTemps(path.dirname(file)).catch(() => undefined);
    const read = await readRows(file);
    const cache = new LayerCache(file, stateDir, read.rows ?? new Map(), read.rejected);
    if (read.dropped) cache.changed = true;
    return cache;
  }

  /** No layer cached (a fresh state folder): no layer of this build can be found here, whatever its key. */
  get empty(): boolean {
    for (const rows of this.rows.values()) if (rows.length > 0) return false;
    return true;
  }

  /** Rows for these inputs, whatever they say. */
  has(inputKey: string, kind: 'gzip' | 'zstd', mtime: number): boolean {
    return (this.rows.get(slot(inputKey, kind, mtime))?.length ?? 0) > 0;
  }

  /**
   * The reusable layer for these inputs, if its blob is in the store and proven to hash to its digest (a valid
   * verified marker, else a full hash: see oci/blob-verify.ts). A damaged blob is removed, reported through
   * `onDamaged` and treated as absent, so the layer is built again. A row must then have the `recordedDiffID` a
   * build record gives these inputs, or, with no record to vouch, pass `prove` (its blob read back: layer-proof.ts);
   * a row that does not is dropped through `onDisagrees`.
   */
  async find(
    inputKey: string,
    kind: 'gzip' | 'zstd',
    mtime: number,
    compressor: string,
    store: OciStore,
    onDamaged?: (file: string, problem: string) => void,
    recordedDiffID?: string,
    onDisagrees?: (file: string, problem: string) => void,
    prove?: (layer: BuiltLayer) => Promise<string | undefined>,
  ): Promise<BuiltLayer | undefined> {
    const key = slot(inputKey, kind, mtime);
    const candidates = this.rows.get(key) ?? [];
    const here = storeFromState(this.stateDir, store.dir);
    const ordered = [...candidates.filter((r) => r.compressor === compressor), ...candidates.filter((r) => r.compressor !== compressor)];
    const alive: CacheRow[] = [];
    const dropped: Change[] = [];
    let found: BuiltLayer | undefined;
    for (const row of ordered) {
      // The checksum only finds a torn write: a row must be of these inputs, and of the tar the previous build
      // recorded for them (same settings, so the same bytes), else its blob, sound as it is, is another layer.
      const l = row.layer as Partial<BuiltLayer> | null;
      const problem =
        typeof l !== 'object' || l === null || typeof l.digest !== 'string' || typeof l.size !== 'number'
          ? 'a row that is not a layer'
          : l.inputKey !== inputKey
            ? `a row for inputs ${inputKey.slice(0, 19)}… names a layer of inputs ${String(l.inputKey).slice(0, 19)}…`
            : recordedDiffID !== undefined && l.diffID !== recordedDiffID
              ? `the layer of inputs ${inputKey.slice(0, 19)}… is ${String(l.diffID).slice(0, 19)}… there, ${recordedDiffID.slice(0, 19)}… in the previous build's record`
              : undefined;
      if (problem) {
        onDisagrees?.(this.file, problem);
        dropped.push({ slot: key, drop: rowId(row) });
        continue;
      }
      // Once one row is found the others are only checked to be in the store: they are not used this build.
      const check = await store.checkBlob(row.layer.digest, row.layer.size);
      if (check.status === 'ok') {
        const unproven = prove && !found ? await prove(row.layer) : undefined;
        if (unproven) {
          onDisagrees?.(this.file, unproven);
          dropped.push({ slot: key, drop: rowId(row) });
          continue;
        }
        alive.push(row);
        found ??= row.layer;
      } else {
        if (check.status === 'damaged') onDamaged?.(check.file, check.problem);
        // Another store's row: its blob is there, not here; that store's builds use it (gc drops it with the blob).
        if (row.store !== undefined && row.store !== here) alive.push(row);
        else dropped.push({ slot: key, drop: rowId(row), unlessIn: store.dir });
      }
    }
    if (alive.length !== candidates.length) {
      this.rows.set(key, alive);
      this.changes.push(...dropped);
      this.changed = true;
    }
    return found;
  }

  /**
   * Drops every row whose blob `stays` says the store will not hold (gc removes it): such a row can never be reused
   * (find drops it when asked), but a row is only asked about when its inputs come back, so without this the file
   * kept a row, with its layer's entry list, for every layer ever built. Returns the rows dropped.
   */
  retainBlobs(stays: (digest: string) => boolean): number {
    let dropped = 0;
    for (const [key, rows] of this.rows) {
      const alive = rows.filter((r) => stays(r.layer.digest));
      if (alive.length === rows.length) continue;
      dropped += rows.length - alive.length;
      for (const r of rows) if (!alive.includes(r)) this.changes.push({ slot: key, drop: rowId(r) });
      if (alive.length) this.rows.set(key, alive);
      else this.rows.delete(key);
      this.changed = true;
    }
    return dropped;
  }

  /** The layer's blob is in the store at `storeDir`: its row, replacing that store's row of the same compressor. */
  remember(layer: BuiltLayer, kind: 'gzip' | 'zstd', mtime: number, compressor: string, storeDir: string): void {
    const change = { slot: slot(layer.inputKey, kind, mtime), put: { compressor, layer, store: storeFromState(this.stateDir, storeDir) } };
    putRow(this.rows, change.slot, change.put);
    this.changes.push(change);
    this.changed = true;
  }

  /**
   * Writes the cache: this build's changes made on the rows on disk now (under `layers.json.lock`, so a build saving
   * at the same time keeps its own). Saves run one after another, so a build can save after each layer: a build that
   * is killed or fails part-way keeps the layers it finished. Nothing changed since the file was read or written:
   * nothing is written.
   */
  save(): Promise<void> {
    if (!this.changed) return this.saving;
    this.changed = false;
    const next = this.saving.then(() => this.write());
    this.saving = next.catch(() => {
      // Not written: the next save tries again.
      this.changed = true;
    });
    return next;
  }

  private async write(): Promise<void> {
    const changes = this.changes.splice(0);
    try {
      await makeFolders(path.dirname(this.file));
      await withLock(`${this.file}.lock`, async () => {
        const id = await identityOf(this.file);
        const onDisk = this.written && id !== undefined && this.written.id === id ? this.written.rows : (await readRows(this.file)).rows;
        // None readable (a fresh folder, a damaged file): the rows this build holds, its changes made on them.
        if (onDisk) for (const change of changes) make(onDisk, change);
        const rows = onDisk ?? copyRows(this.rows);
        this.written = undefined;
        await writeCheckedJson(this.file, FORMAT, Object.fromEntries(rows));
        const now = await identityOf(this.file);
        if (now !== undefined) this.written = { id: now, rows };
      });
    } catch (e) {
      this.changes.unshift(...changes);
      throw diskFullError(e, 'state.disk-full', path.dirname(this.file), path.basename(this.file));
    }
  }
}

/**
 * The rows of the file, each at least row-shaped (`dropped`: some were not); none when it is missing, or when it is
 * not a layer cache (`rejected`: why).
 */
async function readRows(file: string): Promise<{ rows?: Map<string, CacheRow[]>; dropped?: boolean; rejected?: string }> {
  const read = await readCheckedJson<Record<string, CacheRow[]>>(file, FORMAT);
  if (!read.ok) return { rejected: read.missing ? undefined : read.reason };
  const rows = new Map<string, CacheRow[]>();
  let dropped = false;
  if (read.value && typeof read.value === 'object') {
    for (const [k, v] of Object.entries(read.value)) {
      if (!Array.isArray(v)) continue;
      // A row every method may look into (its compressor, its layer's digest): a null one was error[internal]
      // in find and in gc. find checks the rest of a layer, and says so when it does not fit.
      const sound = v.filter((r: unknown) => isRowShaped(r));
      if (sound.length !== v.length) dropped = true;
      rows.set(k, sound);
    }
  }
  return { rows, dropped };
}

/** A row in front of its slot, replacing the row of its compressor of its store (or of no store: an older row). */
function putRow(rows: Map<string, CacheRow[]>, key: string, row: CacheRow): void {
  const others = (rows.get(key) ?? []).filter((r) => r.compressor !== row.compressor || (r.store !== undefined && r.store !== row.store));
  rows.set(key, [row, ...others]);
}

/** The file's identity (another build's save, a temp file renamed in, is another inode); none when it is missing. */
async function identityOf(file: string): Promise<string | undefined> {
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  return st && fileIdentity(st);
}

function copyRows(rows: Map<string, CacheRow[]>): Map<string, CacheRow[]> {
  return new Map([...rows].map(([k, v]) => [k, [...v]]));
}

function make(rows: Map<string, CacheRow[]>, change: Change): void {
  if ('put' in change) return putRow(rows, change.slot, change.put);
  const kept = (rows.get(change.slot) ?? []).filter((r) => rowId(r) !== change.drop || (change.unlessIn !== undefined && blobIn(change.unlessIn, r)));
  if (kept.length) rows.set(change.slot, kept);
  else rows.delete(change.slot);
}

/** What a dropped row is told by: its compressor, its store and its blob. */
function rowId(row: CacheRow): string {
  return JSON.stringify([row.compressor, row.store ?? null, row.layer.digest]);
}

function blobIn(storeDir: string, row: CacheRow): boolean {
  try {
    return existsSync(blobPath(storeDir, row.layer.digest));
  } catch {
    return false; // not a digest
  }
}

function slot(inputKey: string, kind: string, mtime: number): string {
  return `${inputKey}|${kind}|${mtime}`;
}

/** An object with a compressor string and a layer object: what a row is at least. */
function isRowShaped(r: unknown): r is CacheRow {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const row = r as { compressor?: unknown; layer?: unknown };
  return typeof row.compressor === 'string' && typeof row.layer === 'object' && row.layer !== null && !Array.isArray(row.layer);
}
