// The folders an engine with a read-only root file system may write to (`deploy.readOnlyRootFilesystem` with
// `deploy.writablePaths`): one volume each, named by its place in the list, for the k8s and ECS emitters alike.
import { treeHiddenBy, writablePathProblem } from '../config/writable-paths.js';
import { GamelayerError } from '../errors.js';
import type { DeployTree } from './input.js';

export interface WritableMount {
  /** `writable-1`, `writable-2`, …: a DNS label and an ECS volume name whatever the path holds. */
  volume: string;
  path: string;
}

/**
 * One volume per writable folder. A loaded config passed these checks already; a library caller's list gets the same
 * ones (the config's own validator and rule): a folder on or above a tree's mount would hide the tree's files.
 */
export function writableMounts(paths: readonly string[], trees: readonly DeployTree[]): WritableMount[] {
  return paths.map((p, i) => {
    const problem = writablePathProblem(p);
    if (problem) throw new GamelayerError('deploy.option', `writablePaths: ${JSON.stringify(p)}: ${problem}`, 'write it as /tmp or /var/log/game');
    const tree = treeHiddenBy(p, trees);
    if (tree) {
      throw new GamelayerError('deploy.option', `writablePaths: ${p} is on or above the mount of tree ${tree.tree} (${tree.mount}): it would hide the tree's files`, 'write to a folder outside every tree mount, such as /tmp');
    }
    return { volume: `writable-${i + 1}`, path: p };
  });
}
