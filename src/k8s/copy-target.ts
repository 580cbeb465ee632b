// Where a copy container puts a tree (`<copy root>/<tree>`), for the k8s init containers and the ECS copy containers
// alike: one rule, so neither lets a target overlap a tree's mount.
import { GamelayerError } from '../errors.js';
import { isSameOrInside } from '../util/real-path.js';
import type { DeployTree } from './input.js';

/**
 * The copy target of `tree` under `copyRoot`, refused (`deploy.copy-target`) when it is on, above or below any tree's
 * mount: the copy would hide the files it copies, or copy into itself. A tree mounted at `/` overlaps every target.
 */
export function copyTarget(tree: DeployTree, copyRoot: string, trees: readonly DeployTree[]): string {
  const target = `${copyRoot === '/' ? '' : copyRoot}/${tree.tree}`;
  const other = trees.find((t) => isSameOrInside(target, t.mount) || isSameOrInside(t.mount, target));
  if (other) {
    throw new GamelayerError(
      'deploy.copy-target',
      `copy target ${target} of tree ${tree.tree} overlaps the mount ${other.mount} of tree ${other.tree}: ` +
        'the copy would hide the files it copies',
      other.mount === '/'
        ? `a tree mounted at / overlaps every copy target: mount tree ${other.tree} at a folder of its own` +
            ' (or, on Kubernetes, run the server image: --volumes none)'
        : 'pass --copy-root with a directory outside every tree mount',
    );
  }
  return target;
}
