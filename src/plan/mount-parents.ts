// The folders a tree's layer writes above its mount take what the base image has there: a runtime shows the layer's
// copy of a folder, so `/home/steam` written as root 0755 over a base's uid-1000 0750 one took the server's home
// from it (`COPY app /home/steam/game` keeps it). A folder the base lacks, or holds as root 0755, is written as
// before (root 0755), so those layers keep their bytes and keys. A mount through a base symlink is refused: the
// layer's folder would replace the link.
import path from 'node:path/posix';
import { GamelayerError } from '../errors.js';

/** A path's final state in the base: a folder with its owner and permission bits, a symlink, or another kind. */
export type BaseNode = { type: 'dir'; uid: number; gid: number; mode: number } | { type: 'symlink'; target: string } | { type: 'other'; what: string };

/** The base's final state by path (no leading `/`), as oci/base-parents.ts reads it; a path it does not hold is absent. */
export type BaseNodes = Map<string, BaseNode>;

/** Owner and permission bits of a folder above a mount. */
export interface ParentDir {
  uid: number;
  gid: number;
  mode: number;
}

/** A tree's folders above its mount that are not root 0755 in the base, by path (no leading `/`). Empty: as ever. */
export type MountParents = ReadonlyMap<string, ParentDir>;

export const NO_PARENTS: MountParents = new Map();

/**
 * What `tree`'s layers write above `mount` on a base of `nodes`; `base.mount-through-link` when a folder above the
 * mount is a symlink (or a file) in the base.
 */
export function mountParents(tree: string, mount: string, nodes: BaseNodes, baseRef: string): MountParents {
  const parts = mount.split('/').filter((p) => p !== '' && p !== '.');
  const out = new Map<string, ParentDir>();
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const n = nodes.get(dir);
    if (!n) continue;
    if (n.type !== 'dir') {
      const link = n.type === 'symlink';
      const target = link ? path.resolve('/', path.dirname(`/${dir}`), n.target) : undefined;
      const there = target ? path.join(target, ...parts.slice(i)) : undefined;
      throw new GamelayerError(
        'base.mount-through-link',
        `${tree}: mount ${mount} goes through /${dir}, which the base image ${baseRef} holds as ${link ? `a symlink to ${n.target}` : n.what}: the layer's folder /${dir} would replace it`,
        link ? `mount the tree at the link's target (${there})` : `mount the tree at a path the base image holds as folders, or change the base image`,
      );
    }
    if (n.uid !== 0 || n.gid !== 0 || n.mode !== 0o755) out.set(dir, { uid: n.uid, gid: n.gid, mode: n.mode });
  }
  return out;
}

type KeptParents = Record<string, Record<string, { path: string; uid: number; gid: number; mode: number }[]>>;

/**
 * Per platform and tree, the parents as a build record keeps them (a later build sees whether its layers were made
 * with the same folders; `diff` reads no registry base): none anywhere, no field, so default records are as they were.
 */
export function recordedParents(plans: readonly { name: string; parents: Record<string, MountParents> }[]): { parents?: KeptParents } {
  const out: KeptParents = {};
  for (const p of plans) {
    for (const [tree, dirs] of Object.entries(p.parents)) {
      if (dirs.size) (out[p.name] ??= {})[tree] = [...dirs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, d]) => ({ path, ...d }));
    }
  }
  return Object.keys(out).length ? { parents: out } : {};
}

/** One platform's tree's parents as a record kept them (recordedParents); none when it kept none. */
export function parentsFromRecord(kept: KeptParents | undefined, platform: string, tree: string): MountParents {
  const dirs = kept?.[platform]?.[tree];
  return dirs ? new Map(dirs.map((d) => [d.path, { uid: d.uid, gid: d.gid, mode: d.mode }])) : NO_PARENTS;
}

/**
 * The parents as a layer's inputKey takes them (plan.ts layerInputKey): empty for none, so default layers keep
 * their keys.
 */
export function parentsKeyText(parents: MountParents | undefined): string {
  if (!parents || parents.size === 0) return '';
  return [...parents]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, d]) => `/${p} ${d.uid}:${d.gid} ${d.mode.toString(8)}`)
    .join('\n');
}
