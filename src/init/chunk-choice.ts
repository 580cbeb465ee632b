// Whether `gamelayer init` chunks app-media: yes when its source holds a file a chunked tree would chunk (64 MiB or
// more). With whole files a partial pak rewrite re-sends the whole pak and a node unpacks it again (issue 16's
// month: 2.68× the changed files unpacked per update, docs/compaction.md); chunked, it costs the bytes written.
// Only app-media: the engine cannot be chunked (its image runs as it is) and the app measured worse chunked
// (docs/chunks.md). The walk only looks (names, types, sizes) and stops at the first such file.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { chunkablePath } from '../chunk/recipe.js';
import { DEFAULT_CHUNK_MIN_FILE_SIZE } from '../config/schema.js';
import { EMPTY_TREE_DIR } from './empty-tree-dir.js';

/** init's choice for a tree that holds a big file. */
export interface ChunkChoice {
  tree: 'app-media';
  /** The first file of at least `minFileSize` found, relative to the build folder (POSIX separators). */
  file: string;
  bytes: number;
  minFileSize: number;
  /** true: `chunks: {}` written; false: whole files, as `--whole-files` asked. */
  chunked: boolean;
}

/** The choice for app-media at `source` (relative to `dir`); undefined when it holds no file big enough to chunk. */
export async function chooseChunks(dir: string, source: string, wholeFiles: boolean): Promise<ChunkChoice | undefined> {
  if (source === EMPTY_TREE_DIR) return undefined;
  const root = path.join(dir, source);
  // A chunked tree's source must be a folder (chunks.archive-source): a tarball stays whole files.
  if (!(await stat(root).then((s) => s.isDirectory(), () => false))) return undefined;
  const found = await firstBigFile(root, '', DEFAULT_CHUNK_MIN_FILE_SIZE);
  if (!found) return undefined;
  const file = path.posix.join(source.split(path.sep).join('/'), found.path);
  return { tree: 'app-media', file, bytes: found.bytes, minFileSize: DEFAULT_CHUNK_MIN_FILE_SIZE, chunked: !wholeFiles };
}

/**
 * Depth first, names in order (the same file is named on every run); regular files only, symlinks not followed
 * (the scan keeps them as links); a folder that cannot be read is skipped, as init does elsewhere.
 */
async function firstBigFile(root: string, rel: string, min: number): Promise<{ path: string; bytes: number } | undefined> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isFile() && chunkablePath(p)) {
      const size = await stat(path.join(root, p)).then((s) => s.size, () => 0);
      if (size >= min) return { path: p, bytes: size };
    } else if (e.isDirectory()) {
      const below = await firstBigFile(root, p, min);
      if (below) return below;
    }
  }
  return undefined;
}
