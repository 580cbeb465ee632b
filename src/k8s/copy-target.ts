// Where a copy container puts a tree (`<copy root>/<tree>`), for the k8s init containers and the ECS copy containers
// alike, and which trees can be delivered as a volume of their own at all: one rule for both.
import { GamelayerError } from '../errors.js';
import { isSameOrInside } from '../util/real-path.js';
import type { DeployTree } from './input.js';

/**
 * A tree delivered as a volume of its own (a copy, an image volume) is mounted at its mount path in the engine
 * container: at / that would replace the engine's root file system, which no runtime mounts over. Refused
 * (`deploy.tree-at-root`), naming the field and the mode that works: the server image holds every tree in place.
 */
export function refuseRootDelivery(tree: DeployTree): void {
  if (tree.mount !== '/') return;
  throw new GamelayerError(
    'deploy.tree-at-root',
    `tree ${tree.tree} is mounted at / (trees.${tree.tree}.mount): it cannot be delivered as a volume of its own, ` +
      'which would be mounted over the engine\'s root file system',
    'run the server image, which holds every tree at its mount: --volumes none (deploy.volumes: none); ' +
      `or mount tree ${tree.tree} at a folder of its own`,
  );
}

/**
 * The copy target of `tree` under `copyRoot`. The copy container holds the tree's image (the base plus this tree at
 * its mount, no other tree) and the target volume, nothing else: so the target is refused (`deploy.copy-target`)
 * only when it is on, above or below this tree's own mount, where the volume would hide the files it copies or the
 * copy would go into itself. Other trees' mounts are not in that container and do not matter.
 */
export function copyTarget(tree: DeployTree, copyRoot: string): string {
  refuseRootDelivery(tree);
  const target = `${copyRoot === '/' ? '' : copyRoot}/${tree.tree}`;
  if (isSameOrInside(target, tree.mount) || isSameOrInside(tree.mount, target)) {
    throw new GamelayerError(
      'deploy.copy-target',
      `copy target ${target} of tree ${tree.tree} overlaps its mount ${tree.mount}: the copy would hide the files it copies`,
      `pass --copy-root with a directory outside ${tree.mount}`,
    );
  }
  return target;
}
