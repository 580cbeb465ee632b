// Scan stage: tree sources on disk → TreeManifests, with the stat cache making unchanged rescans cheap.
import { createHash } from 'node:crypto';
import { readlink, stat } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { configPosition, type GameConfig, type TreeConfig } from '../config/load.js';
import { GamelayerError, errnoCode } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName, type TreeSource } from '../types.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { deniedWhere, isWriteDenied } from '../util/fs-access.js';
import type { OpenFiles } from '../util/open-files.js';
import { collectOldGarbage } from '../util/young-garbage.js';
import { ChangedWhileReading, hashFile, hashSmallFile, sharedHash, SMALL_FILE, xxhashApi, type StatSnapshot } from './hash.js';
import { inOrder, makeManifest, normalizeMode, sortedOrder, withParentDirs } from './manifest.js';
import { PendingHashes } from './pending.js';
import { PackedEntries, packedDigest } from '../entries/packed-entries.js';
import { entrySourceOf, packedList } from '../entries/packed-list.js';
import { linksLeavingTree } from './link-resolve.js';
import { readArchive, sniffArchive } from './read-archive.js';
import { fileTooBig } from './size-limit.js';
import { StatCache, type StatKey } from './stat-cache.js';
import { walkDirEach, type Filters, type WalkedEntry } from './walk-dir.js';
import { count } from '../report/plural.js';
import { emptyByGlobs } from './empty-tree.js';
import { EMPTY_TREE_DIR } from '../init/empty-tree-dir.js';
import { assertNothingAboveMounts } from './mount-above.js';
import { overlapWarnings } from './source-overlap.js';

export interface ScanOptions {
  /** `.gamelayer/` of the game: caches live under `cache/`. */
  stateDir: string;
  reporter?: Reporter;
  /** Files hashed at once (I/O overlap); default 8. */
  concurrency?: number;
  /** Attempts per file when it changes while being hashed; default 3. */
  attempts?: number;
  /**
   * Files above this size (from stat, or an archive member's header) are refused before any byte is read: no
   * layer holding one could fit the registry's limit, however well it compresses. Unset: no bound.
   */
  maxFileBytes?: number;
  /**
   * Hashes a tree's big files another way (a chunked tree: the chunker's one pass gives the xxh64 and the chunk
   * list, src/scan/chunk-tree.ts). Same contract as hashFile: ChangedWhileReading when the file moved.
   */
  bigFiles?: (tree: TreeName) => BigFileHasher | undefined;
  /**
   * Asked after a directory tree's walk, when it has files the stat cache misses: true leaves them unread, their
   * hashes to the layer writer, which takes them from the bytes it packs (`TreeScan.pending`; docs/architecture.md
   * "One read per file"). Only for a build that will pack every such file whatever its hash. Never for a tree with
   * big files hashed another way (`bigFiles`).
   */
  packHashes?: (tree: TreeName, platform: string | undefined) => boolean | Promise<boolean>;
  /**
   * A first scan of a large tree that hashes its files itself keeps its entries in the packed store too, hashes
   * going into its columns (the manifest's `entries` a read-only list view): for callers that only write the
   * manifests out and count them (the scan command), not for those that edit entries or need their identity.
   */
  packEntries?: boolean;
  /**
   * The same for any scan of a large tree, whatever the stat cache holds (a rescan, or a first scan that hashes its
   * files itself: a build with a previous build but no stat cache for this source folder, as on a CI host whose
   * checkout moved): its entries go into a packed store, the cache's hashes and the ones taken now into its columns.
   * For callers that read their manifests through `EntrySource` and list views: a build, `diff`.
   */
  packWarm?: boolean;
  /**
   * The run's open files (a build's): the stat caches' paged stats of pending hashes are added there, for the run to
   * close however it ends. Without it they close when the stat caches are saved (`TreeScan.pending.finish()`).
   */
  openFiles?: OpenFiles;
  /**
   * Ends the scan early (a build whose registry lookup failed stops hashing at once instead of reading the whole game
   * for nothing): checked before each tree, every HASH_BATCH small files, before each other file and as a big one is
   * read. An aborted scan saves no cache.
   */
  signal?: AbortSignal;
}

export interface BigFileHasher {
  minSize: number;
  /** xxh64 of the file at `relPath` (tree path), whose walk said `before`. */
  hash(file: string, relPath: string, before: StatSnapshot): Promise<string>;
}


export interface TreeScanStats {
  files: number;
  bytes: number;
  /** Files whose hash came from the stat cache: no content read. */
  cacheHits: number;
  hashedFiles: number;
  hashedBytes: number;
  ms: number;
  /** Set when a stored cache existed but could not be trusted (and was ignored). */
  cacheRejected?: string;
}

export interface TreeScan {
  manifest: TreeManifest;
  stats: TreeScanStats;
  /**
   * Set when `packHashes` left files unread: they carry a pending mark instead of their xxh64, and the manifest's
   * digest is a placeholder, until the layer writer has hashed them and `pending.finish()` ran.
   */
  pending?: PendingHashes;
}

/** Resolves a source path to a TreeSource, with a clear error naming the config field when it is unusable. */
export async function resolveSource(sourcePath: string, field: string): Promise<TreeSource> {
  let s;
  try {
    s = await stat(sourcePath);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      // A symlink whose target is gone: name both, "does not exist" alone sends one looking for the link.
      const target = await readlink(sourcePath).catch(() => undefined);
      if (target !== undefined) {
        throw new GamelayerError(
          'scan.source-missing',
          `${field}: ${sourcePath} is a symlink to ${target}, which does not exist`,
          'restore the link\'s target, or point the source at the tree itself',
        );
      }
      // git keeps no empty folder: a fresh clone (a CI host) lacks the one init made for trees with nothing in them.
      const hint =
        path.basename(sourcePath) === EMPTY_TREE_DIR
          ? `${EMPTY_TREE_DIR} is the empty folder gamelayer init made for trees the build has nothing for, and git keeps no empty folder (a fresh clone lacks it): create it before the build (mkdir -p ${sourcePath}), empty (a file in it would go into the tree's image)`
          : 'check the path in gamelayer.yaml (relative paths start at the yaml\'s folder)';
      throw new GamelayerError('scan.source-missing', `${field}: ${sourcePath} does not exist`, hint);
    }
    throw new GamelayerError('scan.source-unreadable', `${field}: ${sourcePath} cannot be read: ${(e as Error).message}`);
  }
  if (s.isDirectory()) return { kind: 'dir', path: sourcePath };
  // A file stat calls regular may still refuse a read (/proc/self/mem: EIO; no permission: EACCES): named, not internal.
  const compression = s.isFile()
    ? await sniffArchive(sourcePath).catch((e: unknown) => {
        throw new GamelayerError('scan.source-unreadable', `${field}: ${sourcePath} cannot be read: ${(e as Error).message}`, 'point the source at the tree\'s folder or at its tarball, a file this user can read');
      })
    : undefined;
  if (!compression) {
    throw new GamelayerError(
      'scan.source-kind',
      `${field}: ${sourcePath} is neither a directory nor a .tar / .tar.gz archive`,
      'point the source at the tree\'s folder or at its tarball',
    );
  }
  return { kind: 'archive', path: sourcePath, compression };
}

export async function scanTree(
  tree: TreeName,
  sourcePath: string,
  filters: Filters,
  opts: ScanOptions & { platform?: string; field?: string; label?: string },
): Promise<TreeScan> {
  const started = Date.now();
  const field = opts.field ?? `trees.${tree}.source`;
  const source = await resolveSource(sourcePath, field);
  // What progress and warnings call it: the tree, or what the caller scans as one (diff's directory).
  const label = opts.label ?? (opts.platform ? `${tree} (${opts.platform})` : tree);
  const result: { entries: FileEntry[]; stats: PartialStats; pending?: StatCache; packed?: PackedEntries } =
    source.kind === 'dir'
      ? await scanDir(tree, source, filters, label, opts)
      : await scanArchive(tree, source, filters, label, opts);
  let manifest: TreeManifest;
  let pending: PendingHashes | undefined;
  if (result.packed && !result.pending) {
    // A large first scan that hashed every file into the packed store (`packEntries`): sorted there, its digest
    // from the columns; the stat cache was saved from the walk's order. Not sealed first: its columns are copied
    // into the sorted store anyway (a seal's copy was 30 MiB more at the scan's peak on 1M entries).
    // The stat cache's blocks (33 MiB outside the heap on 1M files) are dead since its save: freed before the
    // sorted copy is made on top of them, which is the scan's peak. Not worth a full GC on a smaller tree.
    if (result.packed.length >= LARGE_GAME_ENTRIES) collectOldGarbage();
    const sorted = withParentDirsPacked(result.packed).sorted();
    manifest = { tree, root: source.path, source, platform: opts.platform, entries: packedList(sorted), digest: packedDigest(sorted) };
  } else if (result.pending && result.packed) {
    // A large cold tree whose hashes the layer writer fills: its entries stay in the packed store (35 bytes an entry,
    // not an object and a path string of about 100), sorted there; the manifest reads them through a list view.
    const walked = withParentDirsPacked(result.packed).seal();
    const order = walked.sortOrder();
    const sorted = walked.permuted(order);
    const placeOf = new Int32Array(order.length);
    for (let i = 0; i < order.length; i++) placeOf[order[i]!] = i;
    const cache = result.pending;
    cache.moveTo(sorted, placeOf);
    manifest = { tree, root: source.path, source, platform: opts.platform, entries: packedList(sorted), digest: '' };
    const reporter = opts.reporter ?? silentReporter;
    pending = new PendingHashes(manifest, cache, source.path, label, () => saveOrWarn(() => cache.save(), reporter, label, 'stat cache'), (e, file) => wrapReadError(e, label, file));
    pending.markAll();
  } else if (result.pending) {
    // Same fields, in the same order, as makeManifest's; the digest once the layer writer filled every hash. The
    // stat cache's reserved places move from the walk's list to the manifest's, and the walk's list is dropped.
    const walked = withParentDirs(result.entries);
    const order = sortedOrder(walked);
    const entries = inOrder(walked, order);
    const placeOf = new Int32Array(order.length);
    for (let i = 0; i < order.length; i++) placeOf[order[i]!] = i;
    const cache = result.pending;
    cache.moveTo(entries, placeOf);
    result.entries = entries;
    manifest = { tree, root: source.path, source, platform: opts.platform, entries, digest: '' };
    const reporter = opts.reporter ?? silentReporter;
    pending = new PendingHashes(manifest, cache, source.path, label, () => saveOrWarn(() => cache.save(), reporter, label, 'stat cache'), (e, file) => wrapReadError(e, label, file));
    pending.markAll();
  } else manifest = makeManifest(tree, source, withParentDirs(result.entries), opts.platform);
  let bytes = 0;
  let files = 0;
  if (result.packed) ({ files, bytes } = result.packed.fileTotals());
  else {
    for (const e of manifest.entries) {
      if (e.type === 'file') {
        files++;
        bytes += e.size;
      }
    }
  }
  return {
    manifest,
    stats: { ...result.stats, files, bytes, ms: Date.now() - started },
    ...(pending ? { pending } : {}),
  };
}

type PartialStats = Omit<TreeScanStats, 'files' | 'bytes' | 'ms'>;

const HASH_BATCH = 1024;

/**
 * Entries from which a cold build's scan keeps a tree in a packed store (src/entries/packed-entries.ts) rather than as
 * objects: below it the objects cost little and every reader takes them directly. Settable for tests.
 */
export const packedScan = {
  minEntries: 16_384,
  /**
   * The same for a first scan that hashes its files itself (`packEntries`): a hash put into the store's columns and
   * read back out as text (stat cache, digest, record) cost about 1.5 µs an entry more than on objects (the bench's
   * 100k-file tree, 62k files in its largest tree: 4-12% more CPU), while a tree's objects below this stay about
   * 13 MiB. The 1M-entry tree is far above it.
   */
  minHashedEntries: 131_072,
};

/** `withParentDirs` on a store being filled: the folders no entry stands for are added as entries. */
function withParentDirsPacked(store: PackedEntries): PackedEntries {
  const have = new Set<string>(['']);
  for (let i = 0; i < store.length; i++) if (store.type(i) === 'dir') have.add(store.path(i));
  const folders = store.folderPaths();
  for (let f = 0; f < folders.length; f++) {
    for (let p = folders[f]!; !have.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      have.add(p);
      store.append({ path: p, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  store.foldersListed = true;
  return store;
}

/** Entries walked between the full collections of a large tree's walk (see scanDir). */
const WALK_COLLECT_EVERY = 131_072;

/** Entries from which what a stage leaves behind is worth a full GC (tens of MiB) even when nothing was hashed. */
export const LARGE_GAME_ENTRIES = 250_000;

export function cacheFile(stateDir: string, kind: string, key: string): string {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 20);
  return path.join(stateDir, 'cache', kind, `${id}.json`);
}

async function scanDir(
  tree: TreeName,
  source: TreeSource,
  filters: Filters,
  label: string,
  opts: ScanOptions & { platform?: string },
): Promise<{ entries: FileEntry[]; stats: PartialStats; pending?: StatCache; packed?: PackedEntries }> {
  const reporter = opts.reporter ?? silentReporter;
  const cache = await StatCache.open(cacheFile(opts.stateDir, 'stat', source.path), opts.openFiles);
  const big = opts.bigFiles?.(tree);
  // A first scan for a build that may leave hashes to the layer writer: every file will be reserved, and the walk
  // fills a packed store instead of an object per entry (kept if the tree is large and its hashes are left pending).
  let store = cache.empty && !big && opts.packHashes ? new PackedEntries() : undefined;
  // A first scan asked to keep its entries packed (`packEntries`) walks into objects, and moves them into a store
  // once the tree is large: a small tree pays for no store it would turn back into objects. So does a rescan of a
  // large tree (an incremental build of 1M entries held them as objects: about 110 MiB, 35 packed), and any scan
  // asked to with `packWarm`: a build's first scan that hashes (a previous build exists) materialized its cold store
  // into 1M objects, 500 MiB peak against 220 for the cold build.
  const packWarm = opts.packWarm === true;
  let packLater = !big && !store && ((cache.empty && opts.packEntries === true) || packWarm);
  // A rescan whose stat cache held a large tree walks into a store from the first entry, with room for the rows the
  // cache kept: the first 128Ki entries as objects and the columns' doublings (each a copy beside the last) were the
  // walk's peak at 1M files (stop 43). The objects of a tree that shrank below the bound are made as before.
  const warmStore = packLater && !cache.empty && cache.storedRows >= packedScan.minHashedEntries;
  if (warmStore) {
    store = new PackedEntries().reserve(cache.storedRows + (cache.storedRows >> 4));
    packLater = false;
  }
  // Each walked entry becomes its FileEntry at once (the walk's records are not kept): a file the cache vouches for
  // gets its stored hash; the others are reserved in the cache, in walk order, and hashed below.
  let entries: FileEntry[] = [];
  cache.attach(store ?? entries);
  let cacheHits = 0;
  let tooBig: WalkedEntry | undefined;
  const max = opts.maxFileBytes;
  let walked = 0;
  await walkDirEach(source.path, filters, label, (w) => {
    // The walk's garbage (each folder's listing, promoted while the folder is walked) grows the old generation until
    // V8 collects it: about 100 MiB at 1M files. Collected every so many entries (a few ms each on a heap whose
    // large parts are typed arrays); a tree below the first collection (the 100k bench game) pays nothing.
    if (++walked % WALK_COLLECT_EVERY === 0) collectOldGarbage();
    if (packLater && entries.length >= packedScan.minHashedEntries) {
      // The store's indexes are the list's places: the files reserved so far keep theirs.
      const moved = new PackedEntries();
      for (const e of entries) moved.append(e);
      entries = [];
      cache.attach((store = moved));
      packLater = false;
    }
    if (store) {
      if (w.type !== 'file') store.append({ path: w.path, type: w.type, mode: normalizeMode(w.type, w.rawMode), size: 0, linkTarget: w.linkTarget });
      else {
        if (max !== undefined && w.size > max) tooBig ??= w;
        // A cold store's cache is empty: every file is reserved.
        const row = cache.empty ? -1 : cache.lookup(w.path, w.size, w.mtimeMs, w.ctimeMs, w.ino);
        if (row >= 0) {
          cacheHits++;
          cache.keep(row);
          store.append(fileEntry(w.path, w.rawMode, w.size, cache.hashAt(row)));
        } else cache.reserve(store.append(fileEntry(w.path, w.rawMode, w.size, '')), [w.size, w.mtimeMs, w.ctimeMs, w.ino]);
      }
      return;
    }
    if (w.type !== 'file') {
      entries.push({ path: w.path, type: w.type, mode: normalizeMode(w.type, w.rawMode), size: 0, linkTarget: w.linkTarget });
      return;
    }
    if (max !== undefined && w.size > max) tooBig ??= w;
    const row = cache.lookup(w.path, w.size, w.mtimeMs, w.ctimeMs, w.ino);
    if (row >= 0) {
      cacheHits++;
      cache.keep(row);
      entries.push(fileEntry(w.path, w.rawMode, w.size, sharedHash(cache.hashAt(row))));
    } else {
      entries.push(fileEntry(w.path, w.rawMode, w.size, ''));
      cache.reserve(entries.length - 1, [w.size, w.mtimeMs, w.ctimeMs, w.ino]);
    }
  });
  if (tooBig) throw fileTooBig(label, path.join(source.path, tooBig.path), tooBig.size, max!);
  // The objects walked before the move (128Ki of them, about 20 MiB) are dead, but old: freed before the hashing.
  if (opts.packEntries && store && store.length >= LARGE_GAME_ENTRIES) collectOldGarbage();
  warnLinksLeaving(store ? store.links() : entries, label, source.path, reporter);
  if (cache.rejected) reporter.warn(`${label}: stat cache ignored (${cache.rejected}); hashing every file again`);

  const toHash = cache.reservedCount;
  // The build packs these files whatever their hash: the layer writer hashes them from the bytes it packs.
  const leaveToWriter = toHash > 0 && !big && opts.packHashes !== undefined && (await opts.packHashes(tree, opts.platform));
  opts.signal?.throwIfAborted();
  if (leaveToWriter) {
    const packed = store && store.length >= (warmStore ? packedScan.minHashedEntries : packedScan.minEntries) ? store : undefined;
    if (store && !packed) cache.attach((entries = store.materialize()));
    return { entries, stats: { cacheHits, hashedFiles: 0, hashedBytes: 0, cacheRejected: cache.rejected }, pending: cache, ...(packed ? { packed } : {}) };
  }
  // Hashed here: into the packed store when asked and the tree is large, else the entries as objects.
  const packed = store && (opts.packEntries || packWarm) && store.length >= packedScan.minHashedEntries ? store : undefined;
  if (store && !packed) cache.attach((entries = store.materialize()));
  let hashBytes = 0;
  for (let slot = 0; slot < toHash; slot++) hashBytes += cache.reservedKey(slot)[0];
  const task = toHash ? reporter.task(`hash ${label}`, hashBytes, 'bytes') : undefined;
  const limit = pLimit(opts.concurrency ?? 8);
  const attempts = opts.attempts ?? 3;
  const prefix = source.path.endsWith(path.sep) ? source.path : source.path + path.sep;
  let hashedBytes = 0;
  // Where hashes go: the entries as objects, or the packed store (a reserved file's place is its index there).
  const target = packed ?? entrySourceOf(entries);
  const hashed = (slot: number, xxh64: string, k: StatKey, startedAt: number, ticked = 0) => {
    target.setXxh64(cache.reservedPlace(slot), sharedHash(xxh64));
    cache.record(slot, k, startedAt);
    hashedBytes += k[0];
    task?.tick(Math.max(0, k[0] - ticked));
  };
  /** Hashes a reserved file, from attempt `first` on (after the first, the file is statted again before each). */
  const hashOne = async (slot: number, first = 1): Promise<void> => {
    const relPath = cache.reservedPath(slot);
    const file = prefix + relPath;
    let k = cache.reservedKey(slot);
    // Bytes of this file the bar has already moved by while it was read (never past its size, retries included).
    let ticked = 0;
    const onBytes =
      task || opts.signal
        ? (n: number) => {
            opts.signal?.throwIfAborted();
            if (!task) return;
            const add = Math.min(n, k[0] - ticked);
            if (add <= 0) return;
            ticked += add;
            task.tick(add);
          }
        : undefined;
    for (let attempt = first; ; attempt++) {
      opts.signal?.throwIfAborted();
      try {
        if (attempt > 1) {
          // Hashed as it is now: the entry takes the file's new size and mode.
          const s = await stat(file);
          k = [s.size, s.mtimeMs, s.ctimeMs, s.ino];
          target.setSizeAndMode(cache.reservedPlace(slot), s.size, normalizeMode('file', s.mode));
        }
        const startedAt = Date.now();
        const before: StatSnapshot = { size: k[0], mtimeMs: k[1], ctimeMs: k[2] };
        // A chunked tree's big file: one chunker pass gives its xxh64 (and its chunk list to the recipe cache).
        hashed(slot, big && k[0] >= big.minSize ? await big.hash(file, relPath, before) : await hashFile(file, before, onBytes), k, startedAt, ticked);
        return;
      } catch (err) {
        if (err instanceof ChangedWhileReading && attempt < attempts) continue;
        if (opts.signal?.aborted) throw err; // not the file's fault
        throw wrapReadError(err, label, file);
      }
    }
  };
  // Small files first, synchronously, in walk order: their read is a few syscalls, and a promise per file (with
  // p-limit's closures) cost more than the read. Files that changed under the read join the others for a retry.
  const api = toHash ? await xxhashApi() : undefined;
  const slow: { slot: number; first: number }[] = [];
  for (let slot = 0; slot < toHash; slot++) {
    if ((slot & (HASH_BATCH - 1)) === HASH_BATCH - 1) {
      await yieldToEventLoop(); // progress output and signals stay live
      opts.signal?.throwIfAborted();
    }
    const k = cache.reservedKey(slot);
    if (k[0] > SMALL_FILE || (big && k[0] >= big.minSize)) {
      slow.push({ slot, first: 1 });
      continue;
    }
    const file = prefix + cache.reservedPath(slot);
    const startedAt = Date.now();
    try {
      hashed(slot, hashSmallFile(api!, file, { size: k[0], mtimeMs: k[1], ctimeMs: k[2] }), k, startedAt);
    } catch (err) {
      if (err instanceof ChangedWhileReading && attempts > 1) slow.push({ slot, first: 2 });
      else throw wrapReadError(err, label, file);
    }
  }
  // Handed to p-limit a batch at a time: 100k files must not mean 100k pending promises held at once.
  for (let start = 0; start < slow.length; start += HASH_BATCH) {
    await Promise.all(slow.slice(start, start + HASH_BATCH).map(({ slot, first }) => limit(() => hashOne(slot, first))));
  }
  task?.done(`${count(toHash, 'file')} hashed, ${cacheHits} from cache`);
  // Save only after the whole tree hashed cleanly: a failed scan never leaves a half-updated cache.
  // A rescan that found everything as stored writes nothing.
  if (!cache.unchanged) await saveOrWarn(() => cache.save(), reporter, label, 'stat cache');
  return {
    entries,
    stats: { cacheHits, hashedFiles: toHash, hashedBytes, cacheRejected: cache.rejected },
    ...(packed ? { packed } : {}),
  };
}

/**
 * A directory tree is the user's own: its links are kept as written (SECURITY.md), also those that lead out of
 * it through another link of the tree, which no lexical look at one link shows. Those are named, since in the
 * image they point at whatever lies at that path there.
 */
function warnLinksLeaving(entries: Iterable<FileEntry>, label: string, root: string, reporter: Reporter): void {
  // Only chains: a link written to point outside directly is the documented, deliberate case (SECURITY.md).
  const chained = linksLeavingTree(entries).filter((l) => l.resolution.via !== undefined);
  // A cycle (`loop -> loop`, `a -> b -> a`) never leads anywhere: it was named as leading outside, which sent users
  // looking for a path out of the tree. In the image it fails as it does here (ELOOP).
  const leaving = chained.filter((l) => l.resolution.why !== 'loop');
  const loops = chained.filter((l) => l.resolution.why === 'loop');
  const shown = (list: typeof chained) =>
    list
      .slice(0, 3)
      .map((l) => `${l.path} -> ${l.target} (through ${l.resolution.via})`)
      .join(', ') + (list.length > 3 ? ', …' : '');
  const links = (n: number) => `${n} symlink${n > 1 ? 's' : ''} in ${root}`;
  if (leaving.length > 0) {
    reporter.warn(
      `${label}: ${links(leaving.length)} lead${leaving.length > 1 ? '' : 's'} outside the tree: ${shown(leaving)}; ` +
        'they are stored as links, and in the image point at whatever lies there',
    );
  }
  if (loops.length > 0) {
    reporter.warn(
      `${label}: ${links(loops.length)} never resolve${loops.length > 1 ? '' : 's'}, a loop of links: ${shown(loops)}; ` +
        'they are stored as links, and opening one in the image fails (too many levels of symbolic links)',
    );
  }
}

/**
 * Saves a cache; on a state folder this user may not write (read-only, another owner) the scan's result still
 * stands: the cache is skipped with a warning, and the next scan reads the files again.
 */
async function saveOrWarn(save: () => Promise<void>, reporter: Reporter, label: string, what: string): Promise<void> {
  try {
    await save();
  } catch (e) {
    if (!isWriteDenied(e)) throw e;
    reporter.warn(`${label}: ${what} not saved: ${deniedWhere(e)} is not writable (${errnoCode(e)}); the next scan reads these files again`);
  }
}

/**
 * A file's entry; every one made with the same fields in the same order, so they share one shape. The size comes
 * from lstat as a double: stored as is, V8 boxed it in a heap number of 16 bytes per entry (16 MiB on 1M files);
 * as a small integer it is held in the entry itself (sizes of 1 GiB and more stay doubles).
 */
function fileEntry(relPath: string, rawMode: number, size: number, xxh64: string): FileEntry {
  return { path: relPath, type: 'file', mode: normalizeMode('file', rawMode), size: size < 0x40000000 ? size | 0 : size, xxh64 };
}

function wrapReadError(e: unknown, label: string, file: string): unknown {
  if (e instanceof GamelayerError) return e;
  const code = errnoCode(e);
  if (code === 'EACCES' || code === 'EPERM') {
    return new GamelayerError('scan.unreadable', `${label}: ${file} cannot be read (permission denied)`, 'fix its permissions or exclude it in gamelayer.yaml');
  }
  if (code === 'ENOENT') {
    return new GamelayerError('scan.vanished', `${label}: ${file} disappeared during the scan`, 'stop whatever is changing the game tree and run again');
  }
  return new GamelayerError('scan.read', `${label}: ${file}: ${(e as Error).message}`, undefined, { cause: e });
}

const ARCHIVE_FORMAT = 'gamelayer-archive-manifest/1';

async function scanArchive(
  tree: TreeName,
  source: Extract<TreeSource, { kind: 'archive' }>,
  filters: Filters,
  label: string,
  opts: ScanOptions,
): Promise<{ entries: FileEntry[]; stats: PartialStats }> {
  const reporter = opts.reporter ?? silentReporter;
  const s = await stat(source.path);
  // The archive is one file: its stat and the filters decide whether the cached entry list still holds.
  const key = JSON.stringify([source.path, s.size, s.mtimeMs, s.ctimeMs, s.ino, filters.include, filters.exclude]);
  const file = cacheFile(opts.stateDir, 'archive', source.path);
  const cached = await readCheckedJson<{ key: string; entries: FileEntry[] }>(file, ARCHIVE_FORMAT);
  if (cached.ok && cached.value.key === key && Array.isArray(cached.value.entries)) {
    const files = cached.value.entries.filter((e) => e.type === 'file').length;
    return { entries: cached.value.entries, stats: { cacheHits: files, hashedFiles: 0, hashedBytes: 0 } };
  }
  if (!cached.ok && !cached.missing) reporter.warn(`${label}: archive cache ignored (${cached.reason})`);
  const task = reporter.task(`read ${label}`, s.size, 'bytes');
  let read = 0;
  const entries = await readArchive(source.path, source.compression, filters, label, (n) => void (read += n), opts.maxFileBytes);
  task.done(count(entries.length, 'entry', 'entries'));
  if (Date.now() - s.mtimeMs > 2000) await saveOrWarn(() => writeCheckedJson(file, ARCHIVE_FORMAT, { key, entries }), reporter, label, 'archive cache');
  const files = entries.filter((e) => e.type === 'file').length;
  return {
    entries,
    stats: { cacheHits: 0, hashedFiles: files, hashedBytes: read, cacheRejected: cached.ok ? undefined : cached.missing ? undefined : cached.reason },
  };
}

/** One scan per tree and distinct source: a tree with one source for every platform is scanned once. */
export interface GameScan {
  game: string;
  trees: TreeScan[];
}

/**
 * Checks every tree source of the game (exists, is a directory or a tar / tar.gz) before any is hashed: a typo in
 * the last tree's path fails at once, not after minutes of hashing the others.
 */
export async function checkSources(config: GameConfig, platforms: string[] = config.platforms): Promise<void> {
  for (const name of TREE_NAMES) {
    const tc: TreeConfig = config.trees[name];
    const shared = tc.sources['*'];
    if (shared !== undefined) await checkSource(config.file, shared, ['trees', name, 'source']);
    else for (const p of platforms) if (tc.sources[p] !== undefined) await checkSource(config.file, tc.sources[p]!, ['trees', name, 'source', p]);
  }
}

/** An unusable source (missing, unreadable, of the wrong kind) is named where the config writes it (`gamelayer.yaml:LINE:COL`), as config errors are. */
async function checkSource(configFile: string, sourcePath: string, field: string[]): Promise<void> {
  try {
    await resolveSource(sourcePath, field.join('.'));
  } catch (e) {
    if (!(e instanceof GamelayerError) || !['scan.source-missing', 'scan.source-unreadable', 'scan.source-kind'].includes(e.code)) throw e;
    throw new GamelayerError(e.code, `${await configPosition(configFile, field)}: ${e.message}`, e.hint);
  }
}

export async function scanGame(config: GameConfig, opts: Omit<ScanOptions, 'stateDir'> & { platforms?: string[] } = {}): Promise<GameScan> {
  const platforms = opts.platforms ?? config.platforms;
  await checkSources(config, platforms);
  const trees: TreeScan[] = [];
  for (const name of TREE_NAMES) {
    const tc: TreeConfig = config.trees[name];
    for (const own of tc.ownFolders ?? []) {
      opts.reporter?.warn(`${name}: ${own.path} (${own.what}) lies inside the tree's source; it is left out of the tree`);
    }
    opts.signal?.throwIfAborted();
    const filters = { include: tc.include, exclude: tc.exclude };
    const shared = tc.sources['*'];
    const warnEmpty = async (scanned: TreeScan, field: string, source: string) => {
      const warning = await emptyByGlobs(field, source, filters, scanned.manifest.entries.length);
      if (warning) opts.reporter?.warn(warning);
    };
    if (shared !== undefined) {
      trees.push(await scanTree(name, shared, filters, { ...opts, stateDir: config.stateDir }));
      assertNothingAboveMounts(config, trees[trees.length - 1]!.manifest);
      await warnEmpty(trees[trees.length - 1]!, `trees.${name}`, shared);
    } else {
      for (const p of platforms) {
        const src = tc.sources[p];
        if (src === undefined) continue;
        trees.push(
          await scanTree(name, src, filters, { ...opts, stateDir: config.stateDir, platform: p, field: `trees.${name}.source.${p}` }),
        );
        assertNothingAboveMounts(config, trees[trees.length - 1]!.manifest);
        await warnEmpty(trees[trees.length - 1]!, `trees.${name} (${p})`, src);
      }
    }
  }
  for (const warning of overlapWarnings(config, trees.map((t) => t.manifest))) opts.reporter?.warn(warning);
  // The trees' stat caches and walk records are garbage now: freed before the next stage allocates on top of them.
  // Not after a small rescan that hashed nothing (a no-op build), whose garbage is small and whose time counts.
  if (trees.some((t) => t.stats.hashedFiles > 0) || trees.reduce((n, t) => n + t.manifest.entries.length, 0) >= LARGE_GAME_ENTRIES) collectOldGarbage();
  return { game: config.game, trees };
}
