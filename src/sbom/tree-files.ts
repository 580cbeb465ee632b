// The files of one tree image with their sha256, as the SBOM lists them: the record's manifest says which files the
// tree holds (path, size), the image's layers (hashed once per layer, cached: layer-files.ts) say their sha256.
// One tree at a time, so an SBOM holds one tree's files, never the whole game's, while it is written.
import { entrySourceOf } from '../entries/packed-list.js';
import { GamelayerError } from '../errors.js';
import { mountPrefix } from '../oci/tar.js';
import type { OciStore } from '../oci/store.js';
import type { BuildRecord, TreeManifest, TreeName } from '../types.js';
import { layerFiles, type LayerFile } from './layer-files.js';

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
  const { record, store, stateDir, mounts } = input;
  const platform = m.platform ?? record.platforms[0];
  const image = record.images.find((i) => i.name === m.tree && i.platform === platform && i.layers);
  if (!image) throw new GamelayerError('sbom.no-image', `the build record has no ${m.tree} image for ${platform ?? 'its platform'}`, 'build again, then make the SBOM');
  const treeLayers = new Map(record.layers.filter((l) => l.tree === m.tree).map((l) => [l.digest, l]));
  // The tree image is base + the tree's layers + its sentinel: apply the tree's layers in order, whiteouts included.
  const visible = new Map<string, LayerFile>();
  for (const l of image.layers!) {
    const built = treeLayers.get(l.digest);
    if (!built) continue;
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
    if (!f || f.size !== size) {
      throw new GamelayerError(
        'sbom.file-missing',
        `${m.tree}${m.platform ? ` (${m.platform})` : ''}: ${path} (${size} bytes) is ${f ? `${f.size} bytes` : 'not'} in the image's layers`,
        'the store does not hold the layers this build record describes; build again',
      );
    }
    files.push({ path, size, sha256: f.sha256 });
  }
  return files;
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
