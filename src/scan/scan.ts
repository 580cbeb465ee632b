// Scan stage: tree sources on disk → TreeManifests, with the stat cache making unchanged rescans cheap.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { GameConfig, TreeConfig } from '../config/load.js';
import { GamelayerError, errnoCode } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName, type TreeSource } from '../types.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { deniedWhere, isWriteDenied } from '../util/fs-access.js';
import { ChangedWhileReading, hashFile, type StatSnapshot } from './hash.js';
import { makeManifest, normalizeMode, withParentDirs } from './manifest.js';
import { linksLeavingTree } from './link-resolve.js';
import { readArchive, sniffArchive } from './read-archive.js';
import { fileTooBig } from './size-limit.js';
import { StatCache, type StatKey } from './stat-cache.js';
import { walkDir, type Filters, type WalkedEntry } from './walk-dir.js';

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
}

/** Resolves a source path to a TreeSource, with a clear error naming the config field when it is unusable. */
export async function resolveSource(sourcePath: string, field: string): Promise<TreeSource> {
  let s;
  try {
    s = await stat(sourcePath);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      throw new GamelayerError('scan.source-missing', `${field}: ${sourcePath} does not exist`, 'check the path in gamelayer.yaml (relative paths start at the yaml\'s folder)');
    }
    throw new GamelayerError('scan.source-unreadable', `${field}: ${sourcePath} cannot be read: ${(e as Error).message}`);
  }
  if (s.isDirectory()) return { kind: 'dir', path: sourcePath };
  const compression = s.isFile() ? await sniffArchive(sourcePath) : undefined;
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
  opts: ScanOptions & { platform?: string; field?: string },
): Promise<TreeScan> {
  const started = Date.now();
  const field = opts.field ?? `trees.${tree}.source`;
  const source = await resolveSource(sourcePath, field);
  const label = opts.platform ? `${tree} (${opts.platform})` : tree;
  const result =
    source.kind === 'dir'
      ? await scanDir(tree, source, filters, label, opts)
      : await scanArchive(tree, source, filters, label, opts);
  const manifest = makeManifest(tree, source, withParentDirs(result.entries), opts.platform);
  let bytes = 0;
  let files = 0;
  for (const e of manifest.entries) {
    if (e.type === 'file') {
      files++;
      bytes += e.size;
    }
  }
  return {
    manifest,
    stats: { ...result.stats, files, bytes, ms: Date.now() - started },
  };
}

type PartialStats = Omit<TreeScanStats, 'files' | 'bytes' | 'ms'>;

const HASH_BATCH = 1024;

function cacheFile(stateDir: string, kind: string, key: string): string {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 20);
  return path.join(stateDir, 'cache', kind, `${id}.json`);
}

async function scanDir(
  tree: TreeName,
  source: TreeSource,
  filters: Filters,
  label: string,
  opts: ScanOptions,
): Promise<{ entries: FileEntry[]; stats: PartialStats }> {
  const reporter = opts.reporter ?? silentReporter;
  const walked = await walkDir(source.path, filters, label);
  if (opts.maxFileBytes !== undefined) {
    const max = opts.maxFileBytes;
    const big = walked.find((w) => w.type === 'file' && w.size > max);
    if (big) throw fileTooBig(label, path.join(source.path, big.path), big.size, max);
  }
  warnLinksLeaving(walked, label, source.path, reporter);
  const cache = await StatCache.open(cacheFile(opts.stateDir, 'stat', source.path));
  if (cache.rejected) reporter.warn(`${label}: stat cache ignored (${cache.rejected}); hashing every file again`);

  const entries: FileEntry[] = [];
  /** Files the cache missed, each with its reserved place in the cache's walk order. */
  const toHash: { w: WalkedEntry; slot: number }[] = [];
  let cacheHits = 0;
  for (const w of walked) {
    if (w.type === 'file') {
      const row = cache.lookup(w.path, w.size, w.mtimeMs, w.ctimeMs, w.ino);
      if (row >= 0) {
        cacheHits++;
        cache.keep(row);
        entries.push(fileEntry(w, cache.hashAt(row)));
      } else {
        toHash.push({ w, slot: cache.reserve() });
      }
    } else {
      entries.push({
        path: w.path,
        type: w.type,
        mode: normalizeMode(w.type, w.rawMode),
        size: 0,
        linkTarget: w.linkTarget,
      });
    }
  }

  const hashBytes = toHash.reduce((n, t) => n + t.w.size, 0);
  const task = toHash.length ? reporter.task(`hash ${label}`, hashBytes, 'bytes') : undefined;
  const big = opts.bigFiles?.(tree);
  const limit = pLimit(opts.concurrency ?? 8);
  const attempts = opts.attempts ?? 3;
  let hashedBytes = 0;
  const hashOne = async ({ w, slot }: { w: WalkedEntry; slot: number }): Promise<FileEntry> => {
    const file = path.join(source.path, w.path);
    let current = w;
    for (let attempt = 1; ; attempt++) {
      const startedAt = Date.now();
      try {
        const xxh64 = big && current.size >= big.minSize ? await big.hash(file, w.path, current) : await hashFile(file, current);
        cache.record(slot, w.path, statKey(current), xxh64, startedAt);
        hashedBytes += current.size;
        task?.tick(current.size);
        return fileEntry(current, xxh64);
      } catch (e) {
        if (e instanceof ChangedWhileReading && attempt < attempts) {
          current = await restat(file, w);
          continue;
        }
        throw wrapReadError(e, label, file);
      }
    }
  };
  // Handed to p-limit a batch at a time: 100k files must not mean 100k pending promises held at once.
  const hashed: FileEntry[] = [];
  for (let start = 0; start < toHash.length; start += HASH_BATCH) {
    hashed.push(...(await Promise.all(toHash.slice(start, start + HASH_BATCH).map((t) => limit(() => hashOne(t))))));
  }
  task?.done(`${toHash.length} files hashed, ${cacheHits} from cache`);
  // Save only after the whole tree hashed cleanly: a failed scan never leaves a half-updated cache.
  // A rescan that found everything as stored writes nothing.
  if (!cache.unchanged) await saveOrWarn(() => cache.save(), reporter, label, 'stat cache');
  return {
    entries: entries.concat(hashed),
    stats: { cacheHits, hashedFiles: toHash.length, hashedBytes, cacheRejected: cache.rejected },
  };
}

/**
 * A directory tree is the user's own: its links are kept as written (SECURITY.md), also those that lead out of
 * it through another link of the tree, which no lexical look at one link shows. Those are named, since in the
 * image they point at whatever lies at that path there.
 */
function warnLinksLeaving(walked: WalkedEntry[], label: string, root: string, reporter: Reporter): void {
  // Only chains: a link written to point outside directly is the documented, deliberate case (SECURITY.md).
  const leaving = linksLeavingTree(walked).filter((l) => l.resolution.via !== undefined);
  if (leaving.length === 0) return;
  const shown = leaving
    .slice(0, 3)
    .map((l) => `${l.path} -> ${l.target}${l.resolution.via ? ` (through ${l.resolution.via})` : ''}`)
    .join(', ');
  reporter.warn(
    `${label}: ${leaving.length} symlink${leaving.length > 1 ? 's' : ''} in ${root} lead${leaving.length > 1 ? '' : 's'} outside the tree: ${shown}${leaving.length > 3 ? ', …' : ''}; ` +
      'they are stored as links, and in the image point at whatever lies there',
  );
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

function statKey(w: WalkedEntry): StatKey {
  return [w.size, w.mtimeMs, w.ctimeMs, w.ino];
}

function fileEntry(w: WalkedEntry, xxh64: string): FileEntry {
  return { path: w.path, type: 'file', mode: normalizeMode('file', w.rawMode), size: w.size, xxh64 };
}

async function restat(file: string, w: WalkedEntry): Promise<WalkedEntry> {
  const s = await stat(file);
  return { ...w, rawMode: s.mode, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
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
  task.done(`${entries.length} entries`);
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
    if (shared !== undefined) await resolveSource(shared, `trees.${name}.source`);
    else for (const p of platforms) if (tc.sources[p] !== undefined) await resolveSource(tc.sources[p]!, `trees.${name}.source.${p}`);
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
    const filters = { include: tc.include, exclude: tc.exclude };
    const shared = tc.sources['*'];
    if (shared !== undefined) {
      trees.push(await scanTree(name, shared, filters, { ...opts, stateDir: config.stateDir }));
    } else {
      for (const p of platforms) {
        const src = tc.sources[p];
        if (src === undefined) continue;
        trees.push(
          await scanTree(name, src, filters, { ...opts, stateDir: config.stateDir, platform: p, field: `trees.${name}.source.${p}` }),
        );
      }
    }
  }
  return { game: config.game, trees };
}
