// The folders an engine with a read-only root may write to (`deploy.writablePaths`, default /tmp): the shape of one
// path (the schema's check, and the k8s/ECS emitters' for a library caller), and where they may lie among the trees.
import { GamelayerError } from '../errors.js';
import { TREE_NAMES, type TreeName } from '../types.js';
import { isSameOrInside } from '../util/real-path.js';

/** Why `p` cannot be a writable folder, or undefined when it can. */
export function writablePathProblem(p: string): string | undefined {
  if (!p.startsWith('/') || p === '/' || p.split('/').some((c) => c === '..' || c === '.') || /[\u0000-\u001f\u007f]/.test(p)) {
    return 'expected an absolute folder path below / such as /tmp or /var/log/game';
  }
  if (['proc', 'sys', 'dev'].includes(p.split('/')[1] ?? '')) return 'is a path the container runtime owns (/proc, /sys, /dev)';
  return undefined;
}

/**
 * The tree a writable folder at `p` would hide whole: one mounted at `p` or below it. A folder below a tree's mount
 * hides only that folder of the tree, so it is allowed (the loader warns).
 */
export function treeHiddenBy<T extends { mount: string }>(p: string, trees: readonly T[]): T | undefined {
  return trees.find((t) => isSameOrInside(p, t.mount));
}

/**
 * The effective writable paths (the default /tmp too) against the tree mounts: one that would hide a tree is refused at
 * the line that wrote it, or at `readOnlyRootFilesystem` when the default was used; one inside a tree is warned about.
 */
export function checkWritablePaths(
  /** writablePathsOf(deploy): undefined with a writable root. */
  paths: readonly string[] | undefined,
  /** Whether `deploy.writablePaths` lists them (else they are the default). */
  written: boolean,
  trees: Record<TreeName, { mount: string }>,
  /** `file:line:col` of a field of the config. */
  where: (field: string[]) => string,
): string[] {
  if (!paths) return [];
  const named = TREE_NAMES.map((name) => ({ name, mount: trees[name].mount }));
  const warnings: string[] = [];
  paths.forEach((w, i) => {
    const field = written ? ['deploy', 'writablePaths', String(i)] : ['deploy', 'readOnlyRootFilesystem'];
    const at = where(field);
    const what = written ? `deploy.writablePaths.${i}: ${w}` : `deploy.readOnlyRootFilesystem: its default writable path ${w}`;
    const hidden = treeHiddenBy(w, named);
    if (hidden) {
      throw new GamelayerError(
        'config.invalid',
        `${at}: ${what} ${w === hidden.mount ? 'is' : 'lies above'} the mount of tree ${hidden.name} (${hidden.mount}); a folder mounted there would hide the tree's files`,
        written ? 'write to a folder outside every tree mount, such as /tmp or /var/lib/game' : 'list deploy.writablePaths outside every tree mount (such as /var/lib/game), or [] for none',
      );
    }
    // The innermost tree holding it: the one whose folder the engine no longer sees.
    const inside = named.filter((t) => isSameOrInside(t.mount, w)).sort((a, b) => b.mount.length - a.mount.length)[0];
    if (inside) {
      warnings.push(
        `${at}: ${what} is inside the mount of tree ${inside.name} (${inside.mount}): the engine sees an empty writable folder at ${w}, ` +
          `not the tree's files there`,
      );
    }
  });
  return warnings;
}
