// Big files a build sent whole again because they changed: a 4-byte edit in a 560 MiB pak re-sends 560 MiB, and the
// build said only "rebased (the change holds 96 % of the tree's bytes)". Named, so the user learns of chunked trees
// (docs/chunks.md), which send only the chunks that changed.
import { DEFAULT_CHUNK_MIN_FILE_SIZE } from '../config/schema.js';
import { eachEntry } from '../entries/packed-list.js';
import type { BuildRecord, PlannedLayer, TreeManifest, TreeName } from '../types.js';

export interface WholeFile {
  tree: TreeName;
  path: string;
  bytes: number;
}

/**
 * The files of the default `chunks.minFileSize` or more that a layer built now holds and the previous build held with
 * other content, in trees that are not chunked. Added files are not listed: chunks would send them whole too.
 */
export function changedWholeFiles(
  built: readonly PlannedLayer[],
  manifests: readonly TreeManifest[],
  previous: Pick<BuildRecord, 'manifests'> | undefined,
  platform: string,
): WholeFile[] {
  if (!previous) return [];
  const out: WholeFile[] = [];
  const seen = new Set<string>();
  for (const layer of built) {
    const current = manifests.find((m) => m.tree === layer.tree);
    if (!current || current.chunks) continue;
    const big = [...eachEntry(layer.entries)].filter((e) => e.type === 'file' && e.size >= DEFAULT_CHUNK_MIN_FILE_SIZE);
    if (big.length === 0) continue;
    const before = previous.manifests.find((m) => m.tree === layer.tree && (m.platform === undefined || m.platform === platform));
    if (!before) continue;
    const old = new Map<string, string | undefined>();
    const wanted = new Set(big.map((e) => e.path));
    for (const e of eachEntry(before.entries)) if (e.type === 'file' && wanted.has(e.path)) old.set(e.path, e.xxh64);
    for (const e of big) {
      const key = `${layer.tree}\0${e.path}`;
      if (seen.has(key) || !old.has(e.path) || old.get(e.path) === e.xxh64) continue;
      seen.add(key);
      out.push({ tree: layer.tree, path: e.path, bytes: e.size });
    }
  }
  return out;
}
