// The folders an engine with a read-only root file system may write to (`deploy.readOnlyRootFilesystem` with
// `deploy.writablePaths`): one volume each, named by its place in the list, for the k8s and ECS emitters alike.
import { GamelayerError } from '../errors.js';
import type { DeployTree } from './input.js';

export interface WritableMount {
  /** `writable-1`, `writable-2`, …: a DNS label and an ECS volume name whatever the path holds. */
  volume: string;
  path: string;
}

/**
 * One volume per writable folder; a folder on (or above) a tree's mount would hide the tree's files from the engine.
 * The config refuses both at load; this says it to a library caller.
 */
export function writableMounts(paths: readonly string[], trees: readonly DeployTree[]): WritableMount[] {
  return paths.map((p, i) => {
    if (!p.startsWith('/') || p === '/' || p.split('/').includes('..')) {
      throw new GamelayerError('deploy.option', `writablePaths: ${JSON.stringify(p)} is not an absolute folder below /`, 'write it as /tmp or /var/log/game');
    }
    const tree = trees.find((t) => pathsOverlap(p, t.mount));
    if (tree) {
      throw new GamelayerError('deploy.option', `writablePaths: ${p} overlaps the mount of tree ${tree.tree} (${tree.mount}): it would hide the tree's files`, 'write to a folder outside every tree mount, such as /tmp');
    }
    return { volume: `writable-${i + 1}`, path: p };
  });
}

/** Two absolute container paths, one on or below the other (a mount at one would hide or be hidden by the other). */
export function pathsOverlap(a: string, b: string): boolean {
  const under = (x: string, y: string) => x === y || x.startsWith(y === '/' ? '/' : `${y}/`);
  return under(a, b) || under(b, a);
}
