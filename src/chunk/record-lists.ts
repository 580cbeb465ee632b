// Chunk lists in the build record (docs/chunks.md, "A fresh host"): a chunked tree's manifest carries each chunked
// file's chunk list compactly, so the next build on a host without the recipe cache (a fresh CI host) takes the lists
// of unchanged big files from the previous build's record instead of chunking them again. Per file: its path, size,
// xxh64 and sha256, and its chunks in order as the first 16 hex digits of each one's sha256 (16 bytes a chunk beside
// the ≈ 330 bytes of its manifest and plan entries); the chunk entries of the same manifest give the full sha256,
// size and xxh64. A list is taken only when every prefix names exactly one chunk entry, the sizes add up, and the
// recipe it makes is, byte for byte, the recipe entry of that manifest (its xxh64 and size): what the previous build
// shipped.
import { chunkPath, formatRecipe, isChunkPath, RECIPE_PREFIX, recipePath, type Recipe } from './recipe.js';

/** Digits of a chunk's sha256 kept per chunk in a record's list: 64 bits, checked to name one chunk entry. */
export const PREFIX_HEX = 16;

/** One chunk of a file (the recipe cache's shape). */
export interface ListedChunk {
  sha256: string;
  xxh64: string;
  size: number;
  offset: number;
}

export interface ListedFile {
  size: number;
  xxh64: string;
  sha256: string;
  chunks: ListedChunk[];
}

/** What a manifest carries per chunked file (TreeManifest.recipes). */
export interface RecordRecipe {
  path: string;
  size: number;
  xxh64: string;
  sha256: string;
  chunks: string;
}

/** The manifest fields read here (a TreeManifest, or a manifest of a record read from a registry). */
export interface ManifestWithRecipes {
  tree: string;
  entries: readonly { path: string; type: string; size: number; xxh64?: string }[];
  chunks?: { avgChunkSize: number };
  recipes?: readonly RecordRecipe[];
}

export function recordRecipe(path: string, list: ListedFile): RecordRecipe {
  return { path, size: list.size, xxh64: list.xxh64, sha256: list.sha256, chunks: list.chunks.map((c) => c.sha256.slice(0, PREFIX_HEX)).join('') };
}

/** The chunk lists a previous build's record knows for one tree and chunk size, by the file's content. */
export interface RecordChunkLists {
  /** Sizes of the files it has a list for (the scan hashes such a file plainly, not with the chunker). */
  readonly sizes: ReadonlySet<number>;
  /** The list of the content (size, xxh64), checked as above; undefined when there is none or it does not check. */
  find(size: number, xxh64: string): ListedFile | undefined;
  /**
   * The lists (checked as above) of files of this size, whatever their xxh64, at most `max`: what the scan checks
   * against a file's bytes in the read that hashes it, before its xxh64 is known (docs/chunks.md, "A fresh host").
   */
  candidates(size: number, max: number): ListedFile[];
  /** Names the record in warnings ("the build record of REPO:TAG"). */
  readonly label: string;
}

const NONE: RecordChunkLists = { sizes: new Set(), find: () => undefined, candidates: () => [], label: 'the previous build record' };

/**
 * The lists of `tree`'s manifests (any platform) chunked at `avg`. `recipeXxh64` is the xxh64 of a recipe's bytes, as
 * its manifest entry holds it.
 */
export function recordChunkLists(
  manifests: readonly ManifestWithRecipes[] | undefined,
  tree: string,
  avg: number,
  recipeXxh64: (bytes: Buffer) => string,
  label = 'the previous build record',
): RecordChunkLists {
  const usable = (manifests ?? []).filter((m) => m.tree === tree && m.chunks?.avgChunkSize === avg && m.recipes?.length);
  if (usable.length === 0) return { ...NONE, label };
  const byContent = new Map<string, { m: ManifestWithRecipes; r: RecordRecipe }[]>();
  const bySize = new Map<number, { m: ManifestWithRecipes; r: RecordRecipe }[]>();
  for (const m of usable) {
    for (const r of m.recipes!) {
      const key = `${r.size}:${r.xxh64}`;
      byContent.set(key, [...(byContent.get(key) ?? []), { m, r }]);
      bySize.set(r.size, [...(bySize.get(r.size) ?? []), { m, r }]);
    }
  }
  const sizes = new Set(bySize.keys());
  // Per manifest, built on first use: chunk entries by prefix (null where two share one), recipe entries by path.
  const indexes = new Map<ManifestWithRecipes, { chunks: Map<string, ManifestWithRecipes['entries'][number] | null>; recipes: Map<string, ManifestWithRecipes['entries'][number]> }>();
  const indexOf = (m: ManifestWithRecipes) => {
    let ix = indexes.get(m);
    if (!ix) {
      ix = { chunks: new Map(), recipes: new Map() };
      for (const e of m.entries) {
        if (e.type !== 'file') continue;
        if (isChunkPath(e.path)) {
          const p = e.path.slice(e.path.lastIndexOf('/') + 1, e.path.lastIndexOf('/') + 1 + PREFIX_HEX);
          ix.chunks.set(p, ix.chunks.has(p) ? null : e);
        } else if (e.path.startsWith(RECIPE_PREFIX)) ix.recipes.set(e.path, e);
      }
      indexes.set(m, ix);
    }
    return ix;
  };
  const resolve = (m: ManifestWithRecipes, r: RecordRecipe): ListedFile | undefined => {
    if (r.chunks.length === 0 || r.chunks.length % PREFIX_HEX !== 0 || !/^[0-9a-f]{64}$/.test(r.sha256)) return undefined;
    const ix = indexOf(m);
    const chunks: ListedChunk[] = [];
    let offset = 0;
    for (let at = 0; at < r.chunks.length; at += PREFIX_HEX) {
      const e = ix.chunks.get(r.chunks.slice(at, at + PREFIX_HEX));
      if (!e || !e.xxh64 || e.size <= 0) return undefined;
      const sha256 = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (e.path !== chunkPath(sha256) || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
      chunks.push({ sha256, xxh64: e.xxh64, size: e.size, offset });
      offset += e.size;
    }
    if (offset !== r.size) return undefined;
    // The recipe these chunks make must be the one the previous build shipped for that path (either mode).
    const shipped = ix.recipes.get(recipePath(r.path));
    if (!shipped) return undefined;
    const recipe: Recipe = { size: r.size, mode: 0o644, sha256: r.sha256, xxh64: r.xxh64, chunks: chunks.map((c) => ({ sha256: c.sha256, size: c.size })) };
    const same = [0o644, 0o755].some((mode) => {
      const bytes = Buffer.from(formatRecipe({ ...recipe, mode }));
      return bytes.length === shipped.size && recipeXxh64(bytes) === shipped.xxh64;
    });
    return same ? { size: r.size, xxh64: r.xxh64, sha256: r.sha256, chunks } : undefined;
  };
  return {
    sizes,
    label,
    candidates(size, max) {
      const out: ListedFile[] = [];
      const seen = new Set<string>();
      for (const { m, r } of bySize.get(size) ?? []) {
        if (out.length >= max) break;
        const key = `${r.xxh64}:${r.sha256}:${r.chunks}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const list = resolve(m, r);
        if (list) out.push(list);
      }
      return out;
    },
    find(size, xxh64) {
      for (const { m, r } of byContent.get(`${size}:${xxh64}`) ?? []) {
        const list = resolve(m, r);
        if (list) return list;
      }
      return undefined;
    },
  };
}
