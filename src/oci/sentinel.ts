// The tree sentinel: one file every tree image carries at its mount path, naming the tree and its digest, so a
// mounted volume can be checked to really hold that tree. The native build and the Dockerfile path write the
// same bytes; both import it from here (the image stage), below either of them.
import type { TreeManifest } from '../types.js';

/** The file every tree image carries at its mount path: proof that a mounted volume really holds the tree. */
export const TREE_SENTINEL = '.gamelayer-tree';

/** Content of a tree image's `.gamelayer-tree`. */
export function sentinelBytes(m: Pick<TreeManifest, 'tree' | 'digest'>): Buffer {
  return Buffer.from(`${JSON.stringify({ tree: m.tree, digest: m.digest })}\n`);
}
