// The files of one tree image with their sha256, as the SBOM lists them: the record's manifest says which files the
// tree holds (path, size), the image's layers (hashed once per layer, cached: layer-files.ts) say their sha256.
// One tree at a time, so an SBOM holds one tree's files, never the whole game's, while it is written.
// A chunked tree's images hold chunks and recipes, not its big files: each recipe stands for the file it assembles,
// listed at its own path with the size and sha256 the recipe names (read from the layer blob while it was hashed);
// its chunks are not listed (docs/supply-chain.md, "Chunked trees").
import { CHUNKS_DIR, inChunkStore, isChunkPath, recipeFileOf, recipePath } from '../chunk/recipe.js';
import { entrySourceOf } from '../entries/packed-list.js';
import { GamelayerError } from '../errors.js';
import { mountPrefix } from '../oci/tar.js';
import type { OciStore } from '../oci/store.js';
import type { BuildRecord, TreeManifest, TreeName } from '../types.js';
import { compareBytewise } from '../scan/manifest.js';
import { whiteoutTargetPath } from '../util/whiteout.js';
import { layerFileList, layerFiles, type LayerFile, type LayerFileList } from './layer-files.js';

export interface TreeFile {
  path: string;
  size: number;
  sha256: string;
  /** A chunked tree's file assembled from chunks: the sha256 of its recipe as the image holds it. */
  recipeSha256?: string;
}

/**
 * What an SBOM reads of a build record: everything but its plan (the layers' lists, which the image's layers and
 * the manifests say again). A caller may let the plan's lists go before the SBOM (a kept 1M-entry layer's store).
 */
export type SbomRecord = Omit<BuildRecord, 'plan'>;

export interface TreeFilesInput {
  record: SbomRecord;
  store: OciStore;
  stateDir: string;
  /** Mount path of each tree in the image (config.trees[tree].mount). */
  mounts: Record<TreeName, string>;
}

/** The files of `m` (one of `record.manifests`), in the manifest's order, each with the sha256 its image holds. */
export async function manifestFiles(input: TreeFilesInput, m: TreeManifest): Promise<TreeFile[]> {
  const { store, stateDir, mounts } = input;
  // The tree image is base + the tree's layers + its sentinel: apply the tree's layers in order, whiteouts included.
  const visible = new Map<string, LayerFile>();
  // The layer of each recipe member (named in a recipe's error); only those, not one per file.
  const recipeLayer = new Map<LayerFile, string>();
  for (const built of treeLayersOf(input, m)) {
    const lf = await layerFiles(store, stateDir, built);
    if (lf.whiteouts.length) removeWhitedOut(visible, lf.whiteouts);
    for (const f of lf.files) {
      visible.set(f.name, f);
      if (f.recipe) recipeLayer.set(f, built.digest);
    }
  }
  const prefix = mountPrefix(mounts[m.tree]);
  const files: TreeFile[] = [];
  // Read through the entries' columns (a packed record's list makes an object per entry per read: 100k objects
  // of garbage while the SBOM's peak memory is reached).
  const entries = entrySourceOf(m.entries);
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue;
    const path = entries.path(i);
    const size = entries.size(i);
    const role = roleOf(m, path);
    if (role === 'recipe') assembledPath(m, path);
    const f = visible.get(prefix ? `${prefix}/${path}` : path);
    if (!f || f.size !== size) throw fileMissing(m, path, size, f);
    if (role === 'chunk') continue;
    files.push(role === 'recipe' ? assembled(m, path, f, recipeLayer.get(f) ?? 'unknown') : { path, size, sha256: f.sha256 });
  }
  return files;
}

/** What a manifest's file is in the SBOM: a file listed as it is, a chunk (not listed) or a recipe (its file listed). */
function roleOf(m: TreeManifest, path: string): 'file' | 'chunk' | 'recipe' {
  if (!m.chunks) return 'file';
  if (isChunkPath(path)) return 'chunk';
  return recipeFileOf(path) === undefined ? 'file' : 'recipe';
}

const treeLabel = (m: TreeManifest) => `${m.tree}${m.platform ? ` (${m.platform})` : ''}`;
const RECIPE_HINT = 'the image holds a recipe gamelayer did not write (a layer or record from elsewhere): build and push the tree again from its sources';

/** The tree path of the file the recipe entry `entry` stands for: a plain relative path outside the chunk store. */
function assembledPath(m: TreeManifest, entry: string): string {
  const p = recipeFileOf(entry)!;
  if (p === '' || p.split('/').some((s) => s === '' || s === '.' || s === '..') || inChunkStore(p)) {
    throw new GamelayerError('chunks.recipe-invalid', `${treeLabel(m)}: recipe ${JSON.stringify(entry)} names no file of the tree: ${JSON.stringify(p)} is not a relative path of plain names outside ${CHUNKS_DIR}`, RECIPE_HINT);
  }
  return p;
}

/** The file the recipe entry `entry` (the layer member `f` of layer `layer`) stands for, as its recipe says. */
function assembled(m: TreeManifest, entry: string, f: LayerFile, layer: string): TreeFile {
  const path = assembledPath(m, entry);
  const r = f.recipe;
  if (!r || 'invalid' in r) throw new GamelayerError('chunks.recipe-invalid', `${treeLabel(m)}: layer ${layer}: ${r ? r.invalid : `${f.name}: not read as a recipe`}`, RECIPE_HINT);
  return { path, size: r.size, sha256: r.sha256, recipeSha256: f.sha256 };
}

/**
 * Files handed on together by `manifestFileStream`: an await per file cost about 3 s of CPU at 1M files; 4096 at a
 * time kept them alive long enough to be promoted, and the first 1M-file SBOM peaked 50 MiB higher (299 MiB).
 */
const BATCH = 256;

/** The tree's own layers of its image, in the image's order. */
function treeLayersOf(input: TreeFilesInput, m: TreeManifest) {
  const { record } = input;
  const platform = m.platform ?? record.platforms[0];
  const image = record.images.find((i) => i.name === m.tree && i.platform === platform && i.layers);
  if (!image) throw new GamelayerError('sbom.no-image', `the build record has no ${m.tree} image for ${platform ?? 'its platform'}`, 'build again, then make the SBOM');
  const treeLayers = new Map(record.layers.filter((l) => l.tree === m.tree).map((l) => [l.digest, l]));
  return image.layers!.flatMap((l) => treeLayers.get(l.digest) ?? []);
}

/** The tree's own layers of its image that `store` does not hold (kept in a registry by a fresh host's build). */
export async function missingTreeLayers(input: TreeFilesInput, m: TreeManifest): Promise<{ digest: string; size: number; mediaType: string }[]> {
  const missing = [];
  for (const l of treeLayersOf(input, m)) if (!(await input.store.hasBlob(l.digest, l.size))) missing.push({ digest: l.digest, size: l.size, mediaType: l.mediaType });
  return missing;
}

function fileMissing(m: TreeManifest, path: string, size: number, f: { size: number } | undefined): GamelayerError {
  return new GamelayerError(
    'sbom.file-missing',
    `${m.tree}${m.platform ? ` (${m.platform})` : ''}: ${path} (${size} bytes) is ${f ? `${f.size} bytes` : 'not'} in the image's layers`,
    'the store does not hold the layers this build record describes; build again',
  );
}

/**
 * The files of `m` as `manifestFiles` gives them, a batch at a time and never all held: the manifest's files and each
 * layer's cached list (a file read a piece at a time) are walked together, both in byte order of their names, the
 * topmost layer holding a name giving its sha256 unless a whiteout above that layer removed it (what applying the
 * layers in order leaves visible). Undefined when that order is not there to walk (a layer or a manifest not made by
 * gamelayer, or a path twice): the caller takes `manifestFiles` and sorts, as before.
 */
export async function manifestFileStream(input: TreeFilesInput, m: TreeManifest): Promise<AsyncIterable<TreeFile[]> | undefined> {
  const { store, stateDir, mounts } = input;
  const layers = treeLayersOf(input, m);
  const lists: LayerFileList[] = [];
  for (const built of layers) lists.push(await layerFileList(store, stateDir, built));
  if (lists.some((l) => !l.sorted)) return undefined;
  const entries = entrySourceOf(m.entries);
  let previous: string | undefined;
  // Where a chunked tree's recipe entries lie among the entries (together: they share their first bytes).
  let recipesFrom = 0;
  let recipesTo = 0;
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue;
    const path = entries.path(i);
    if (previous !== undefined && compareBytewise(previous, path) >= 0) return undefined;
    previous = path;
    if (roleOf(m, path) === 'recipe') {
      assembledPath(m, path);
      if (recipesFrom === recipesTo) recipesFrom = i;
      recipesTo = i + 1;
    }
  }
  // What each layer's whiteouts remove (from the layers below it): a name and everything under it.
  const removed = lists.map((l) => new Set(l.whiteouts.map((w) => whiteoutTargetPath(w)!)));
  const removedAbove = (name: string, layer: number) => {
    for (let j = layer + 1; j < removed.length; j++) {
      const r = removed[j]!;
      if (!r.size) continue;
      for (let end = name.length; end > 0; end = name.lastIndexOf('/', end - 1)) if (r.has(end === name.length ? name : name.slice(0, end))) return true;
    }
    return false;
  };
  const prefix = mountPrefix(mounts[m.tree]);
  /**
   * The entries `from` to `to` that `pick` gives a file for (undefined: checked against the layers, not listed), the
   * manifest's files and each layer's list walked together.
   */
  const walk = (from: number, to: number, pick: (path: string, size: number, f: LayerFile, layer: number) => TreeFile | undefined): AsyncIterable<TreeFile[]> => ({
    async *[Symbol.asyncIterator]() {
      // Each cursor: the batch of files read last and the place in it (undefined once the list has ended).
      const cursors = lists.map((l) => ({ it: l.each(), batch: [] as LayerFile[] | undefined, at: 0 }));
      const refill = async (c: (typeof cursors)[number]) => {
        while (c.batch && c.at >= c.batch.length) {
          const r = await c.it.next();
          c.batch = r.done ? undefined : r.value;
          c.at = 0;
        }
      };
      let out: TreeFile[] = [];
      try {
        for (const c of cursors) await refill(c);
        for (let i = from; i < to; i++) {
          if (entries.type(i) !== 'file') continue;
          const path = entries.path(i);
          const size = entries.size(i);
          const name = prefix ? `${prefix}/${path}` : path;
          let f: LayerFile | undefined;
          let at = -1;
          for (let j = 0; j < cursors.length; j++) {
            const c = cursors[j]!;
            while (c.batch) {
              const cur = c.batch[c.at]!;
              const order = compareBytewise(cur.name, name);
              if (order > 0) break;
              if (order === 0) {
                f = cur;
                at = j;
                break;
              }
              if (++c.at >= c.batch.length) await refill(c);
            }
          }
          if (f && removedAbove(name, at)) f = undefined;
          if (!f || f.size !== size) throw fileMissing(m, path, size, f);
          const file = pick(path, size, f, at);
          if (!file) continue;
          out.push(file);
          if (out.length >= BATCH) {
            yield out;
            out = [];
          }
        }
        if (out.length) yield out;
      } finally {
        for (const c of cursors) await c.it.return(undefined);
      }
    },
  });
  if (!m.chunks) return walk(0, entries.length, (path, size, f) => ({ path, size, sha256: f.sha256 }));
  // A chunked tree: its other files (chunks checked, not listed) and the files its recipes stand for, each walk in byte
  // order of its paths (a recipe's path is its file's behind one prefix), merged.
  const files = walk(0, entries.length, (path, size, f) => {
    const role = roleOf(m, path);
    return role === 'file' ? { path, size, sha256: f.sha256 } : undefined;
  });
  const recipes = walk(recipesFrom, recipesTo, (path, _size, f, layer) => (roleOf(m, path) === 'recipe' ? assembled(m, path, f, layers[layer]!.digest) : undefined));
  return merged(m, files, recipes);
}

/** Two walks in byte order of their paths as one; a path in both (a whole file and a recipe's) is refused. */
function merged(m: TreeManifest, a: AsyncIterable<TreeFile[]>, b: AsyncIterable<TreeFile[]>): AsyncIterable<TreeFile[]> {
  return {
    async *[Symbol.asyncIterator]() {
      const ia = a[Symbol.asyncIterator]();
      const ib = b[Symbol.asyncIterator]();
      const next = async (it: AsyncIterator<TreeFile[]>) => {
        const r = await it.next();
        return r.done ? undefined : r.value;
      };
      try {
        let ba = await next(ia);
        let bb = await next(ib);
        let ja = 0;
        let jb = 0;
        let out: TreeFile[] = [];
        while (ba || bb) {
          let f: TreeFile;
          const order = !ba ? 1 : !bb ? -1 : compareBytewise(ba[ja]!.path, bb[jb]!.path);
          if (order === 0) {
            throw new GamelayerError('chunks.recipe-invalid', `${treeLabel(m)}: ${bb![jb]!.path} is both a file of the tree and a chunked file (its recipe ${JSON.stringify(recipePath(bb![jb]!.path))})`, RECIPE_HINT);
          }
          if (order < 0) {
            f = ba![ja++]!;
            if (ja >= ba!.length) [ba, ja] = [await next(ia), 0];
          } else {
            f = bb![jb++]!;
            if (jb >= bb!.length) [bb, jb] = [await next(ib), 0];
          }
          out.push(f);
          if (out.length >= BATCH) {
            yield out;
            out = [];
          }
        }
        if (out.length) yield out;
      } finally {
        await ia.return?.();
        await ib.return?.();
      }
    },
  };
}

/**
 * Drops what the whiteouts (`dir/.wh.name`) of one layer remove: the named path and everything under it. One pass
 * over the visible files, each checked with its parent folders against the removed names (a patch layer with
 * thousands of whiteouts over a tree of 100k files once scanned every file for every whiteout).
 */
function removeWhitedOut(visible: Map<string, unknown>, whiteouts: readonly string[]): void {
  const removed = new Set<string>();
  for (const w of whiteouts) removed.add(whiteoutTargetPath(w)!);
  for (const k of visible.keys()) {
    for (let end = k.length; end > 0; end = k.lastIndexOf('/', end - 1)) {
      if (removed.has(end === k.length ? k : k.slice(0, end))) {
        visible.delete(k);
        break;
      }
    }
  }
}
