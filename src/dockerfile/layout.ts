// The build-context layout the emitted Dockerfiles read, shared by the emitter and the context writer.
//
// Why a generated context (and not the game folder as it is): a Dockerfile cannot split one source folder
// into several layers at our planned boundaries. `COPY a/x b/y /dst/` flattens sources to their basenames,
// and COPY follows a symlink that is named as a source (a dangling one fails), so cutting a directory between
// two layers is impossible whenever it holds a symlink; include/exclude globs and an engine tarball cannot be
// honoured by COPY/ADD either. Instead the context holds every planned layer already laid out in its own
// folder, exactly as it lands in the image:
//
//   <tree>/layer-<i>/<mount>/…           a tree from a directory (COPYed into the tree's stage)
//   <tree>.tar  → layer-<i>/<mount>/…    a tree from an archive, re-packed (ADDed, so docker extracts it)
//   <tree>/sentinel/<mount>/.gamelayer-tree   the tree images' marker file (same bytes as the daemonless build)
//
// and the final stage copies `/layer-<i>/` of each tree stage to `/`: one docker layer per planned layer,
// same paths, same modes (normalised like the daemonless layers), symlinks kept.
import type { TreeSource } from '../types.js';

export const layerDir = (index: number): string => `layer-${index}`;

export const SENTINEL_DIR = 'sentinel';

/** The context file of a tree whose source is an archive. */
export const treeArchiveName = (tree: string): string => `${tree}.tar`;

export function usesArchive(source: Pick<TreeSource, 'kind'>): boolean {
  return source.kind === 'archive';
}

export const SERVER_DOCKERFILE = 'Dockerfile';
export const treeDockerfile = (tree: string): string => `Dockerfile.${tree}`;
export const DOCKERIGNORE = '.dockerignore';
