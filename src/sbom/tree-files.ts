// The files of one tree image with their sha256, as the SBOM lists them: the record's manifest says which files the
// tree holds (path, size), the image's layers (hashed once per layer, cached: layer-files.ts) say their sha256.
// One tree at a time, so an SBOM holds one tree's files, never the whole game's, while it is written.
import { entrySourceOf } from '../entries/packed-list.js';
import { GamelayerError } from '../errors.js';
import { mountPrefix } from '../oci/tar.js';
import type { OciStore } from '../oci/store.js';
import type { BuildRecord, TreeManifest, TreeName } from '../types.js';
import { compareBytewise } from '../scan/manifest.js';
import { layerFileList, layerFiles, type LayerFile, type LayerFileList } from './layer-files.js';

export interface TreeFile {
  path: string;
  size: number;
  sha256: string;
}

export interface TreeFilesInput {
  record: BuildRecord;
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
  for (const built of treeLayersOf(input, m)) {
    const lf = await layerFiles(store, stateDir, built);
    if (lf.whiteouts.length) removeWhitedOut(visible, lf.whiteouts);
    for (const f of lf.files) visible.set(f.name, f);
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
    const f = visible.get(prefix ? `${prefix}/${path}` : path);
    if (!f || f.size !== size) throw fileMissing(m, path, size, f);
    files.push({ path, size, sha256: f.sha256 });
  }
  return files;
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
  const lists: LayerFileList[] = [];
  for (const built of treeLayersOf(input, m)) lists.push(await layerFileList(store, stateDir, built));
  if (lists.some((l) => !l.sorted)) return undefined;
  const entries = entrySourceOf(m.entries);
  let previous: string | undefined;
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue;
    const path = entries.path(i);
    if (previous !== undefined && compareBytewise(previous, path) >= 0) return undefined;
    previous = path;
  }
  // What each layer's whiteouts remove (from the layers below it): a name and everything under it.
  const removed = lists.map((l) => new Set(l.whiteouts.map((w) => {
    const slash = w.lastIndexOf('/');
    return `${w.slice(0, slash + 1)}${w.slice(slash + 1 + '.wh.'.length)}`;
  })));
  const removedAbove = (name: string, layer: number) => {
    for (let j = layer + 1; j < removed.length; j++) {
      const r = removed[j]!;
      if (!r.size) continue;
      for (let end = name.length; end > 0; end = name.lastIndexOf('/', end - 1)) if (r.has(end === name.length ? name : name.slice(0, end))) return true;
    }
    return false;
  };
  const prefix = mountPrefix(mounts[m.tree]);
  return {
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
        for (let i = 0; i < entries.length; i++) {
          if (entries.type(i) !== 'file') continue;
          const path = entries.path(i);
          const size = entries.size(i);
          const name = prefix ? `${prefix}/${path}` : path;
          let f: LayerFile | undefined;
          let from = -1;
          for (let j = 0; j < cursors.length; j++) {
            const c = cursors[j]!;
            while (c.batch) {
              const cur = c.batch[c.at]!;
              const order = compareBytewise(cur.name, name);
              if (order > 0) break;
              if (order === 0) {
                f = cur;
                from = j;
                break;
              }
              if (++c.at >= c.batch.length) await refill(c);
            }
          }
          if (f && removedAbove(name, from)) f = undefined;
          if (!f || f.size !== size) throw fileMissing(m, path, size, f);
          out.push({ path, size, sha256: f.sha256 });
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
  };
}

/**
 * Drops what the whiteouts (`dir/.wh.name`) of one layer remove: the named path and everything under it. One pass
 * over the visible files, each checked with its parent folders against the removed names (a patch layer with
 * thousands of whiteouts over a tree of 100k files once scanned every file for every whiteout).
 */
function removeWhitedOut(visible: Map<string, unknown>, whiteouts: readonly string[]): void {
  const removed = new Set<string>();
  for (const w of whiteouts) {
    const slash = w.lastIndexOf('/');
    removed.add(`${w.slice(0, slash + 1)}${w.slice(slash + 1 + '.wh.'.length)}`);
  }
  for (const k of visible.keys()) {
    for (let end = k.length; end > 0; end = k.lastIndexOf('/', end - 1)) {
      if (removed.has(end === k.length ? k : k.slice(0, end))) {
        visible.delete(k);
        break;
      }
    }
  }
}
