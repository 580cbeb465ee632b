// The manifest transform of a chunked tree (docs/chunks.md): after the scan, each file at or above the tree's
// minFileSize is replaced by its content-defined chunks (`.gamelayer-chunks/c/<hh>/<sha256>`, each once) and its
// recipe (`.gamelayer-chunks/r/<path>`). Everything downstream (planner, layer reuse, record) sees plain entries.
// A file is chunked once per content: its chunk list is cached by (size, xxh64, chunk size) in the state folder, and
// carried in the manifest (so in the build record), where a host without that cache finds it (record-lists.ts).
import { createHash } from 'node:crypto';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { Chunker, chunkSizes } from '../chunk/fastcdc.js';
import { ASSEMBLY_TMP_SUFFIX, CHUNKS_DIR, chunkablePath, inChunkStore, chunkPath, formatRecipe, recipePath, type Recipe } from '../chunk/recipe.js';
import { recordChunkLists, recordRecipe, type ManifestWithRecipes, type RecordChunkLists, type RecordRecipe } from '../chunk/record-lists.js';
import { count } from '../report/plural.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import type { FileEntry, TreeManifest, TreeName } from '../types.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { ChangedWhileReading, hashFile, hex64, xxhashApi, type StatSnapshot } from './hash.js';
import { ListsCheck } from './list-check.js';
import { makeManifest, withParentDirs } from './manifest.js';
import { scanGame, type BigFileHasher, type GameScan, type ScanOptions, type TreeScan } from './scan.js';

export interface ChunkConfig {
  minFileSize: number;
  avgChunkSize: number;
}

/** One chunk of a file: where its bytes are in the file, and its hashes. */
export interface FileChunk {
  sha256: string;
  xxh64: string;
  size: number;
  offset: number;
}

/** The chunks of a file's content (what the recipe cache keeps). */
export interface ChunkList {
  size: number;
  xxh64: string;
  sha256: string;
  chunks: FileChunk[];
}

/** Where the layer writer finds the bytes of a chunked tree's generated entries. */
export interface ChunkSources {
  /** Absolute path of the tree's source directory. */
  root: string;
  /** Chunk entry path → the file (tree path) and byte range holding it. */
  chunks: Map<string, { file: string; offset: number; size: number; sha256: string }>;
  /** Recipe entry path → its bytes. */
  recipes: Map<string, Buffer>;
}

export interface ChunkedTreeScan extends TreeScan {
  /** Set for a chunked tree: how to produce its chunk and recipe entries. */
  chunkSources?: ChunkSources;
}

const READ_BLOCK = 4 << 20;
const CACHE_FORMAT = 'gamelayer-chunk-list/1';

/** Chunks what `fh` holds from its start in one read: every chunk's sha256 and xxh64, the file's sha256 and xxh64. */
async function chunkOpen(fh: FileHandle, avg: number, onBytes?: (n: number) => void): Promise<ChunkList> {
  const api = await xxhashApi();
  const chunker = new Chunker(chunkSizes(avg));
  const whole = createHash('sha256');
  const wholeX = api.create64();
  let part = createHash('sha256');
  let partX = api.create64();
  const chunks: FileChunk[] = [];
  let offset = 0;
  let chunkStart = 0;
  const endChunk = (size: number) => {
    chunks.push({ sha256: part.digest('hex'), xxh64: hex64(partX.digest()), size, offset: chunkStart });
    chunkStart += size;
    part = createHash('sha256');
    partX = api.create64();
  };
  const buf = Buffer.allocUnsafe(READ_BLOCK);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, READ_BLOCK, null);
    if (bytesRead === 0) break;
    const block = buf.subarray(0, bytesRead);
    whole.update(block);
    wholeX.update(block);
    let start = 0;
    while (start < block.length) {
      const end = chunker.cut(block, start);
      const stop = end < 0 ? block.length : end;
      part.update(block.subarray(start, stop));
      partX.update(block.subarray(start, stop));
      if (end >= 0) endChunk(offset + end - chunkStart);
      start = stop;
    }
    offset += bytesRead;
    onBytes?.(bytesRead);
  }
  if (offset > chunkStart) endChunk(offset - chunkStart);
  return { size: offset, xxh64: hex64(wholeX.digest()), sha256: whole.digest('hex'), chunks };
}

/** Chunks `file` (whose scan said `entry`) in one read: every chunk's sha256 and xxh64, and the file's sha256. */
export async function chunkFile(file: string, entry: Pick<FileEntry, 'size' | 'xxh64'>, avg: number, onBytes?: (n: number) => void): Promise<ChunkList> {
  const fh = await open(file, 'r');
  let list: ChunkList;
  try {
    list = await chunkOpen(fh, avg, onBytes);
  } finally {
    await fh.close();
  }
  // The chunks must be of the content the scan hashed, else the recipe would describe another file.
  if (list.size !== entry.size || list.xxh64 !== entry.xxh64) throw new ChangedWhileReading(file);
  return list;
}

/**
 * Chunks a file the scan has not hashed, as the scan's own hashing reads it: the file's stat before (from the walk)
 * must equal its stat after the read and the bytes read its size, else ChangedWhileReading. The list's xxh64 is then
 * the scan's: one read of the file gives its hash and its chunks.
 */
export async function chunkFileForScan(file: string, before: StatSnapshot, avg: number): Promise<ChunkList> {
  const fh = await open(file, 'r');
  try {
    const list = await chunkOpen(fh, avg);
    const after = await fh.stat();
    if (list.size !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
      throw new ChangedWhileReading(file);
    }
    return list;
  } finally {
    await fh.close();
  }
}

export function cacheFile(stateDir: string, size: number, xxh64: string, avg: number): string {
  return path.join(stateDir, 'cache', 'recipes', `${xxh64}-${size}-${avg}.json`);
}

type StoredList = { size: number; xxh64: string; avg: number; sha256: string; chunks: [string, number, string][] };

/** A cached chunk list, trusted only when it parses and describes this very content (size, xxh64) and chunk size. */
async function readCachedList(file: string, entry: FileEntry, avg: number): Promise<ChunkList | undefined> {
  const read = await readCheckedJson<StoredList>(file, CACHE_FORMAT);
  if (!read.ok) return undefined;
  const v = read.value;
  if (v === null || typeof v !== 'object' || v.size !== entry.size || v.xxh64 !== entry.xxh64 || v.avg !== avg) return undefined;
  if (typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256) || !Array.isArray(v.chunks)) return undefined;
  const chunks: FileChunk[] = [];
  let offset = 0;
  for (const c of v.chunks) {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || !/^[0-9a-f]{64}$/.test(c[0]) || !Number.isInteger(c[1]) || c[1] <= 0 || typeof c[2] !== 'string' || !/^[0-9a-f]{16}$/.test(c[2])) return undefined;
    chunks.push({ sha256: c[0], size: c[1], xxh64: c[2], offset });
    offset += c[1];
  }
  if (offset !== entry.size) return undefined;
  return { size: v.size, xxh64: v.xxh64, sha256: v.sha256, chunks };
}

/**
 * Chunk lists this process computed from the files' bytes, by cache file: the transform takes them without a check
 * (the scan's chunker wrote them moments ago); any other cached list is checked first (listMatchesFile).
 */
const computed = new Map<string, ChunkList>();

/** Whether two lists name the same content, the same chunks in the same order (so the same recipe). */
function sameList(a: ChunkList, b: ChunkList): boolean {
  if (a.size !== b.size || a.xxh64 !== b.xxh64 || a.sha256 !== b.sha256 || a.chunks.length !== b.chunks.length) return false;
  return a.chunks.every((c, i) => c.sha256 === b.chunks[i]!.sha256 && c.size === b.chunks[i]!.size && c.xxh64 === b.chunks[i]!.xxh64);
}

/**
 * Whether `list` is the file's content: each chunk's bytes hash to its sha256 and xxh64, the whole file to the list's
 * sha256. One read, no chunker: what a cached list not computed here costs before its recipe is trusted. A checksum
 * on the cache file only finds a torn write; a list edited with its checksum kept would otherwise become a recipe
 * that assembles another file on the node (its sha256 made to match it: the sh assembly checks that alone).
 */
async function listMatchesFile(file: string, list: ChunkList, onBytes?: (n: number) => void): Promise<boolean> {
  const check = new ListsCheck([list], await xxhashApi());
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ_BLOCK);
    let offset = 0;
    // Never past the list's end plus one byte (a longer file fails without being read whole), nor past a chunk
    // that does not match.
    while (check.alive) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(READ_BLOCK, list.size + 1 - offset), offset);
      if (bytesRead === 0) break;
      check.update(buf.subarray(0, bytesRead));
      offset += bytesRead;
      onBytes?.(bytesRead);
      if (offset > list.size) return false;
    }
    return check.matched().length === 1;
  } finally {
    await fh.close();
  }
}

/**
 * What the scan's read of a file found about the previous record's lists of its size (chunkingHasher): the content
 * it hashed (size, xxh64), the lists it checked, and those that matched the bytes. By file path, for the transform.
 */
interface RecordCheck {
  size: number;
  xxh64: string;
  tried: ChunkList[];
  matched: ChunkList[];
}
const recordChecks = new Map<string, RecordCheck>();
/** Files (absolute paths) the scan's hasher chunked in this build, for the transform's count. */
const scanChunked = new Set<string>();

/** Lists of one size checked in the scan's read of a file (a hostile record could list many per size). */
const MAX_CANDIDATES = 4;

async function saveList(stateDir: string, list: ChunkList, avg: number, reporter: Reporter): Promise<void> {
  computed.set(cacheFile(stateDir, list.size, list.xxh64, avg), list);
  const stored: StoredList = { size: list.size, xxh64: list.xxh64, avg, sha256: list.sha256, chunks: list.chunks.map((c) => [c.sha256, c.size, c.xxh64]) };
  await writeCheckedJson(cacheFile(stateDir, list.size, list.xxh64, avg), CACHE_FORMAT, stored).catch((e: unknown) =>
    reporter.warn(`recipe cache not saved (${(e as Error).message}); the file is chunked again next time`),
  );
}

/**
 * The chunk list of a file: from the recipe cache, else from the previous build's record (then cached here), else
 * chunked now (and cached).
 */
async function chunkListOf(
  stateDir: string,
  file: string,
  entry: FileEntry,
  avg: number,
  reporter: Reporter,
  onBytes: (n: number) => void,
  previous: RecordChunkLists,
): Promise<{ list: ChunkList; from: 'scan' | 'cache' | 'record' | 'chunker' }> {
  const cache = cacheFile(stateDir, entry.size, entry.xxh64!, avg);
  const hit = await readCachedList(cache, entry, avg);
  const known = previous.find(entry.size, entry.xxh64!);
  if (hit) {
    // Trusted as is when this process computed it, or it is the list the previous build shipped for this content;
    // else checked against the file's bytes, and chunked again when it does not match.
    const mine = computed.get(cache);
    // The scan's read of this file chunked it moments ago: said so, not "from the recipe cache".
    if (mine && sameList(hit, mine) && scanChunked.delete(file)) return { list: hit, from: 'scan' };
    if ((mine && sameList(hit, mine)) || (known && sameList(hit, known)) || (await listMatchesFile(file, hit))) return { list: hit, from: 'cache' };
    reporter.warn(`${cache}: the cached chunk list does not match ${file}; not used (the file is chunked again)`);
  }
  // A record's list is taken only once the file's bytes were checked against it: in the scan's read of the file
  // (a fresh host reads every file anyway), else in a read of its own. A hostile registry, or a damaged record whose
  // lists still agree with each other, would otherwise put a recipe that assembles another file into the image.
  const checked = recordChecks.get(file);
  recordChecks.delete(file);
  const scanned = checked && checked.size === entry.size && checked.xxh64 === entry.xxh64 ? checked : undefined;
  const good = scanned?.matched.find((l) => l.xxh64 === entry.xxh64);
  if (good) {
    await saveList(stateDir, good, avg, reporter);
    return { list: good, from: 'record' };
  }
  if (known) {
    if (!scanned?.tried.some((l) => sameList(l, known)) && (await listMatchesFile(file, known))) {
      await saveList(stateDir, known, avg, reporter);
      return { list: known, from: 'record' };
    }
    reporter.warn(`${file}: the chunk list ${previous.label} gives for it does not match the file's bytes; not used (the file is chunked afresh)`);
  }
  const list = await chunkFile(file, entry, avg, onBytes);
  await saveList(stateDir, list, avg, reporter);
  return { list, from: 'chunker' };
}

/**
 * The chunk lists the previous build's record knows for a tree (none while there is no record), for the scan's hasher
 * and the transform. The record is the one the build looks up while it scans (the registry's record, verified against
 * its digest, or the local last build).
 */
export function previousChunkLists(previous: PreviousRecord | undefined, tree: TreeName, avg: number): Promise<RecordChunkLists> {
  return Promise.all([previous, xxhashApi()]).then(([record, api]) => recordChunkLists(record?.manifests, tree, avg, (b) => hex64(api.h64Raw(b)), record?.label));
}

/**
 * The scan's hasher for a chunked tree's big files: the chunker reads the file once, its xxh64 goes to the scan and
 * its chunk list to the recipe cache, where chunkTree finds it (a changed file is read once, not twice). A file whose
 * size some cached list has, or some list of the previous build's record (likely the same content, only touched or
 * copied, or a fresh host), is hashed plainly instead: the cheap xxh64 read, then that list, not a chunk pass.
 * `chunked` counts the files chunked in the scan.
 */
export function chunkingHasher(
  chunks: ChunkConfig,
  stateDir: string,
  reporter: Reporter = silentReporter,
  previous: Promise<RecordChunkLists> = Promise.resolve(recordChunkLists(undefined, '', 0, () => '')),
): BigFileHasher & { chunked: number } {
  const avg = chunks.avgChunkSize;
  let cachedSizes: Promise<Set<number>> | undefined;
  let localCached: Promise<Set<number>> | undefined;
  const localSizes = () =>
    (localCached ??= readdir(path.join(stateDir, 'cache', 'recipes')).then(
      (names) => new Set(names.flatMap((n) => (n.endsWith(`-${avg}.json`) ? [Number(n.split('-')[1])] : []))),
      () => new Set<number>(),
    ));
  const sizes = () => (cachedSizes ??= Promise.all([localSizes(), previous]).then(([cached, known]) => new Set([...cached, ...known.sizes])));
  const hasher = {
    minSize: chunks.minFileSize,
    chunked: 0,
    async hash(file: string, relPath: string, before: StatSnapshot): Promise<string> {
      if (!chunkablePath(relPath)) return hashFile(file, before);
      if ((await sizes()).has(before.size)) {
        // The lists the previous record holds for this size are checked in this same read (no second read when the
        // transform takes one), unless the recipe cache has one: a touched file on a warm host, read as before.
        const candidates = (await localSizes()).has(before.size) ? [] : (await previous).candidates(before.size, MAX_CANDIDATES);
        if (candidates.length === 0) return hashFile(file, before);
        // One pass for all of them: each byte range they name hashed once, the whole file's sha256 beside.
        const check = new ListsCheck(candidates, await xxhashApi());
        const xxh64 = await hashFile(file, before, undefined, (block) => check.update(block));
        recordChecks.set(file, { size: before.size, xxh64, tried: candidates, matched: check.matched() });
        return xxh64;
      }
      const list = await chunkFileForScan(file, before, avg);
      hasher.chunked++;
      scanChunked.add(file);
      await saveList(stateDir, list, avg, reporter);
      return list.xxh64;
    },
  };
  return hasher;
}

export interface ChunkStats {
  /** Files replaced by chunks and a recipe. */
  files: number;
  chunks: number;
  /** Files chunked now (not found in the recipe cache), and their bytes. */
  chunkedFiles: number;
  chunkedBytes: number;
  /** Files whose chunk list came from the previous build's record (not in the recipe cache). */
  fromRecord: number;
  /** Files the scan's read chunked (their lists computed in this build, not in the transform). */
  inScan: number;
}

/**
 * The chunked form of a scanned tree: big files replaced by chunk and recipe entries. Refuses a source that is an
 * archive (chunks are read from the files in place) or holds `.gamelayer-chunks` itself.
 */
export async function chunkTree(
  scan: TreeScan,
  chunks: ChunkConfig,
  opts: { stateDir: string; reporter?: Reporter; previous?: Promise<RecordChunkLists> },
): Promise<ChunkedTreeScan & { chunkStats: ChunkStats }> {
  const reporter = opts.reporter ?? silentReporter;
  const m = scan.manifest;
  const label = m.platform ? `${m.tree} (${m.platform})` : m.tree;
  if (m.source.kind !== 'dir') {
    throw new GamelayerError(
      'chunks.archive-source',
      `trees.${m.tree}.chunks: the source ${m.source.path} is an archive; a chunked tree needs a directory (chunks are read from the files in place)`,
      `unpack the archive into a folder and point trees.${m.tree}.source at it, or remove trees.${m.tree}.chunks`,
    );
  }
  const reserved = m.entries.find((e) => inChunkStore(e.path));
  if (reserved) {
    throw new GamelayerError(
      'chunks.reserved-path',
      `${label}: ${path.join(m.root, reserved.path)}: a chunked tree keeps its chunks and recipes in ${CHUNKS_DIR}/, so its source cannot hold that path`,
      `rename or exclude it (trees.${m.tree}.exclude: ['${CHUNKS_DIR}/**']), or remove trees.${m.tree}.chunks`,
    );
  }
  const big = m.entries.filter((e) => e.type === 'file' && e.size >= chunks.minFileSize && chunkablePath(e.path));
  // The copy assembles <path> as <path>.gamelayer-tmp and renames it: a source entry of that name would be removed
  // (or, with two files assembled at once, renamed into <path>), yet the copy would end complete.
  const tmpNames = new Map(big.map((e) => [`${e.path}${ASSEMBLY_TMP_SUFFIX}`, e.path]));
  const clash = m.entries.find((e) => tmpNames.has(e.path));
  if (clash) {
    throw new GamelayerError(
      'chunks.reserved-path',
      `${label}: ${path.join(m.root, clash.path)}: the copy of a chunked tree assembles ${tmpNames.get(clash.path)} under this name before renaming it, so the source cannot hold it beside that chunked file`,
      `rename it, or exclude it (trees.${m.tree}.exclude), or raise trees.${m.tree}.chunks.minFileSize above the size of ${tmpNames.get(clash.path)}`,
    );
  }
  const stats: ChunkStats = { files: big.length, chunks: 0, chunkedFiles: 0, chunkedBytes: 0, fromRecord: 0, inScan: 0 };
  const assembled = { files: big.length, bytes: big.reduce((n, e) => n + e.size, 0) };
  if (big.length === 0) return { ...scan, manifest: { ...m, chunks, assembled }, chunkSources: { root: m.root, chunks: new Map(), recipes: new Map() }, chunkStats: stats };
  const sources: ChunkSources = { root: m.root, chunks: new Map(), recipes: new Map() };
  const bigPaths = new Set(big.map((e) => e.path));
  const entries: FileEntry[] = m.entries.filter((e) => !bigPaths.has(e.path));
  const api = await xxhashApi();
  const previous = (await opts.previous) ?? recordChunkLists(undefined, m.tree, chunks.avgChunkSize, () => '');
  const recipes: RecordRecipe[] = [];
  const task = reporter.task(`chunk ${label}`, assembled.bytes, 'bytes');
  for (const e of big) {
    const file = path.join(m.root, e.path);
    const { list, from } = await chunkListOf(opts.stateDir, file, e, chunks.avgChunkSize, reporter, (n) => task.tick(n), previous);
    if (from !== 'chunker') task.skip?.(e.size);
    else {
      stats.chunkedFiles++;
      stats.chunkedBytes += e.size;
    }
    if (from === 'record') stats.fromRecord++;
    if (from === 'scan') stats.inScan++;
    recipes.push(recordRecipe(e.path, list));
    const recipe: Recipe = { size: list.size, mode: e.mode, sha256: list.sha256, xxh64: list.xxh64, chunks: list.chunks.map((c) => ({ sha256: c.sha256, size: c.size })) };
    const bytes = Buffer.from(formatRecipe(recipe));
    const rp = recipePath(e.path);
    sources.recipes.set(rp, bytes);
    entries.push({ path: rp, type: 'file', mode: 0o644, size: bytes.length, xxh64: hex64(api.h64Raw(bytes)) });
    for (const c of list.chunks) {
      const cp = chunkPath(c.sha256);
      // A chunk shared by several files (or repeated in one) is one entry, read from where it was seen first.
      if (sources.chunks.has(cp)) continue;
      sources.chunks.set(cp, { file: e.path, offset: c.offset, size: c.size, sha256: c.sha256 });
      entries.push({ path: cp, type: 'file', mode: 0o644, size: c.size, xxh64: c.xxh64 });
    }
  }
  stats.chunks = sources.chunks.size;
  const reused = big.length - stats.chunkedFiles - stats.fromRecord - stats.inScan;
  task.done(
    `${count(big.length, 'file')}, ${count(sources.chunks.size, 'chunk')}${stats.inScan ? `, ${stats.inScan} chunked while hashing` : ''}${reused ? `, ${reused} from the recipe cache` : ''}${stats.fromRecord ? `, ${stats.fromRecord} from the previous build's record` : ''}`,
  );
  const manifest: TreeManifest = { ...makeManifest(m.tree, m.source, withParentDirs(entries), m.platform), chunks, assembled, recipes };
  return { ...scan, manifest, chunkSources: sources, chunkStats: stats };
}

/** The chunked form of every tree of a scan whose config asks for it (the others as scanned). */
export async function chunkTrees(config: GameConfig, scan: GameScan, reporter?: Reporter, previous?: PreviousRecord): Promise<ChunkedTreeScan[]> {
  const out: ChunkedTreeScan[] = [];
  for (const t of scan.trees) {
    const chunks = config.trees[t.manifest.tree].chunks;
    out.push(chunks ? await chunkTree(t, chunks, { stateDir: config.stateDir, reporter, previous: previousChunkLists(previous, t.manifest.tree, chunks.avgChunkSize) }) : t);
  }
  return out;
}

/** The previous build's record as the build finds it while scanning (undefined: none, or not looked for). */
export type PreviousRecord = Promise<{ manifests: readonly ManifestWithRecipes[]; /** For warnings: "the build record of REPO:TAG". */ label?: string } | undefined>;

/**
 * scanGame, then the chunk transform: what build, diff and scan compare. `previous`: the previous build's record,
 * whose chunk lists spare the chunker the big files it knows (a build on a fresh host).
 */
export async function scanGameChunked(
  config: GameConfig,
  opts: Omit<ScanOptions, 'stateDir'> & { platforms?: string[]; previous?: PreviousRecord } = {},
): Promise<{ game: string; trees: ChunkedTreeScan[] }> {
  const { previous, ...scanOpts } = opts;
  const hasher = (tree: TreeName) => {
    const chunks = config.trees[tree].chunks;
    return chunks ? chunkingHasher(chunks, config.stateDir, opts.reporter, previousChunkLists(previous, tree, chunks.avgChunkSize)) : undefined;
  };
  const scan = await scanGame(config, { ...scanOpts, bigFiles: hasher });
  opts.signal?.throwIfAborted();
  return { game: scan.game, trees: await chunkTrees(config, scan, opts.reporter, previous) };
}
