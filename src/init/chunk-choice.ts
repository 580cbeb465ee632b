// Whether `gamelayer init` chunks app-media: yes when its source holds a file a chunked tree would chunk (64 MiB or
// more). With whole files a partial pak rewrite re-sends the whole pak and a node unpacks it again (issue 16's
// month: 2.68× the changed files unpacked per update, docs/compaction.md); chunked, it costs the bytes written.
// Only app-media: the engine cannot be chunked (its image runs as it is) and the app measured worse chunked
// (docs/chunks.md). The walk only looks (names, types, sizes). A source holding a path a chunked tree reserves
// (`.gamelayer-chunks`, or `<file>.gamelayer-tmp` beside a file it would chunk) stays whole files: a build of
// `chunks: {}` refuses it (chunks.reserved-path), and init never writes a config that fails on its first build.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { ASSEMBLY_TMP_SUFFIX, CHUNKS_DIR, chunkablePath } from '../chunk/recipe.js';
import { DEFAULT_CHUNK_MIN_FILE_SIZE } from '../config/schema.js';
import { EMPTY_TREE_DIR } from './empty-tree-dir.js';

/** init's choice for a tree that holds a big file. */
export interface ChunkChoice {
  tree: 'app-media';
  /** The first file of at least `minFileSize` found, relative to the build folder (POSIX separators). */
  file: string;
  bytes: number;
  minFileSize: number;
  /** true: `chunks: {}` written; false: whole files, as `--whole-files` asked or because of `reserved`. */
  chunked: boolean;
  /** Without `--whole-files`: a path of the source a chunked tree reserves (chunks.reserved-path), relative to the build folder, so whole files. */
  reserved?: string;
}

/**
 * The choice for app-media at `source` (relative to `dir`); undefined when it holds no file of `minFileSize` or more.
 * init asks at the default `chunks: {}` chunks at; the steady bench at its `--chunk-min`.
 */
export async function chooseChunks(dir: string, source: string, wholeFiles: boolean, minFileSize = DEFAULT_CHUNK_MIN_FILE_SIZE): Promise<ChunkChoice | undefined> {
  if (source === EMPTY_TREE_DIR) return undefined;
  const root = path.join(dir, source);
  // A chunked tree's source must be a folder (chunks.archive-source): a tarball stays whole files.
  if (!(await stat(root).then((s) => s.isDirectory(), () => false))) return undefined;
  const found: Walk = {};
  await walk(root, '', minFileSize, found, pLimit(STATS_AT_ONCE));
  if (!found.big) return undefined;
  const rel = (p: string) => path.posix.join(source.split(path.sep).join('/'), p);
  return {
    tree: 'app-media',
    file: rel(found.big.path),
    bytes: found.big.bytes,
    minFileSize,
    chunked: !wholeFiles && !found.reserved,
    // The reason when --whole-files is not: under it the user chose, whatever the source holds.
    ...(found.reserved && !wholeFiles ? { reserved: rel(found.reserved) } : {}),
  };
}

interface Walk {
  /** The first file of at least the minimum size. */
  big?: { path: string; bytes: number };
  /** The first path chunkTree would refuse (src/scan/chunk-tree.ts): the walk stops once it has this and `big`. */
  reserved?: string;
}

/** Stats in flight at once: a media tree of 100k small files is not 100k stats one after another. */
const STATS_AT_ONCE = 16;

/**
 * Depth first, names in order (the same file is named on every run); regular files only, symlinks not followed
 * (the scan keeps them as links); a folder that cannot be read is skipped, as init does elsewhere. Every big file
 * is looked at: any of them may have a `.gamelayer-tmp` beside it. A folder's files are stat'ed together (readdir's
 * types say which are files), then read in name order, so which file is reported does not depend on timing.
 */
async function walk(root: string, rel: string, min: number, found: Walk, limit: LimitFunction): Promise<void> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(entries.map((e) => e.name));
  const at = (name: string) => (rel ? `${rel}/${name}` : name);
  // Whatever its type: the scan lists it, and the chunked tree refuses it.
  if (!rel && names.has(CHUNKS_DIR)) found.reserved = CHUNKS_DIR;
  const sizes = await Promise.all(
    entries.map((e) => (e.isFile() && chunkablePath(at(e.name)) ? limit(() => stat(path.join(root, at(e.name))).then((s) => s.size, () => 0)) : undefined)),
  );
  for (const [i, e] of entries.entries()) {
    if (found.reserved && found.big) return;
    const p = at(e.name);
    const size = sizes[i];
    if (size !== undefined) {
      if (size < min) continue;
      found.big ??= { path: p, bytes: size };
      if (names.has(`${e.name}${ASSEMBLY_TMP_SUFFIX}`)) found.reserved ??= at(`${e.name}${ASSEMBLY_TMP_SUFFIX}`);
    } else if (e.isDirectory()) await walk(root, p, min, found, limit);
  }
}
