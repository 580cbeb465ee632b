// What a change of a chunked tree costs in chunks: the files whose recipe changed, and the chunks that are new
// (what a build sends and a node pulls) or no longer needed. Chunk entries are named by their sha256, so a chunk
// already in the other state (in any file) is never counted as new.
import { isChunkPath, recipeFileOf } from '../chunk/recipe.js';
import type { FileEntry, TreeManifest } from '../types.js';
import type { TreeDiff } from './diff.js';

export interface ChunkDiff {
  label: string;
  /** Chunked files (by their tree path) added, changed and removed. */
  filesAdded: string[];
  filesModified: string[];
  filesRemoved: string[];
  /** Chunks the newer state has and the older does not: the chunk bytes a build sends and a node pulls. */
  newChunks: number;
  newChunkBytes: number;
  /** Chunks no recipe needs any more (whiteouts in the next patch layer). */
  droppedChunks: number;
  droppedChunkBytes: number;
}

/** The chunk view of a tree diff; undefined when no chunk or recipe entry changed. */
export function chunkDiff(d: TreeDiff): ChunkDiff | undefined {
  const files = (es: FileEntry[]) => es.flatMap((e) => (e.type === 'file' ? [recipeFileOf(e.path)].filter((p): p is string => p !== undefined) : []));
  const chunks = (es: FileEntry[]) => es.filter((e) => e.type === 'file' && isChunkPath(e.path));
  const added = chunks(d.added);
  const removed = chunks(d.removed);
  const out: ChunkDiff = {
    label: d.label,
    filesAdded: files(d.added),
    filesModified: files(d.modified.map((m) => m.after)),
    filesRemoved: files(d.removed),
    newChunks: added.length,
    newChunkBytes: added.reduce((n, e) => n + e.size, 0),
    droppedChunks: removed.length,
    droppedChunkBytes: removed.reduce((n, e) => n + e.size, 0),
  };
  const any = out.filesAdded.length + out.filesModified.length + out.filesRemoved.length + out.newChunks + out.droppedChunks;
  return any > 0 ? out : undefined;
}

export interface ChunkPullCost {
  tree: string;
  platform?: string;
  /** Chunks of the newer tree, and those of them the older tree lacks (each pulled once, inside a new layer). */
  chunks: number;
  bytes: number;
  newChunks: number;
  newBytes: number;
}

/** Per chunked tree of `b`: the chunks a node holding `a`'s tree must pull. */
export function chunkPullCost(a: readonly TreeManifest[], b: readonly TreeManifest[]): ChunkPullCost[] {
  const out: ChunkPullCost[] = [];
  for (const m of b) {
    if (!m.chunks) continue;
    const had = new Set(a.filter((x) => x.tree === m.tree && x.platform === m.platform).flatMap((x) => x.entries.filter((e) => isChunkPath(e.path)).map((e) => e.path)));
    const c: ChunkPullCost = { tree: m.tree, ...(m.platform ? { platform: m.platform } : {}), chunks: 0, bytes: 0, newChunks: 0, newBytes: 0 };
    for (const e of m.entries) {
      if (e.type !== 'file' || !isChunkPath(e.path)) continue;
      c.chunks++;
      c.bytes += e.size;
      if (!had.has(e.path)) {
        c.newChunks++;
        c.newBytes += e.size;
      }
    }
    out.push(c);
  }
  return out;
}
