// The folders a tree's layer writes above its mount take what the base image has there: a runtime shows the layer's
// copy of a folder, so `/home/steam` written as root 0755 over a base's uid-1000 0750 one took the server's home
// from it (`COPY app /home/steam/game` keeps it). A folder the base lacks, or holds as root 0755, is written as
// before (root 0755), so those layers keep their bytes and keys. The mount folder itself likewise (stop 44): it was
// root 0755 whatever the base held there. A mount through a base symlink, or at one, is refused: the layer's folder
// would replace the link.
import path from 'node:path/posix';
import { GamelayerError } from '../errors.js';

/** A path's final state in the base: a folder with its owner and permission bits, a symlink, or another kind. */
export type BaseNode = { type: 'dir'; uid: number; gid: number; mode: number } | { type: 'symlink'; target: string } | { type: 'other'; what: string };

/** The base's final state by path (no leading `/`), as oci/base-parents.ts reads it; a path it does not hold is absent. */
export type BaseNodes = Map<string, BaseNode>;

/** Owner and permission bits of a folder above (or at) a mount. */
export interface ParentDir {
  uid: number;
  gid: number;
  mode: number;
}

/** A tree's folders above and at its mount that its layers write other than root 0755, by path (no leading `/`). Empty: as ever. */
export type MountParents = ReadonlyMap<string, ParentDir>;

const NO_PARENTS: MountParents = new Map();

/** `home/steam/game` → [`home`, `home/steam`, `home/steam/game`]: the folders a layer of a tree there writes. */
function foldersOf(mount: string): string[] {
  const parts = mount.split('/').filter((p) => p !== '' && p !== '.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * What `tree`'s layers write above and at `mount` on a base of `nodes`. The mount folder itself is the tree's root:
 * where the base holds it as a folder, the layers keep the base's owner and mode there (as `COPY app /srv/game` keeps an
 * existing destination folder); where it does not, root 0755, as every folder of a tree is written (scan.normalizeMode).
 * A folder strictly inside another tree's mount (`others`: nested mounts) is that tree's, which writes its folders
 * root 0755: this tree's layers write it so too, never changing what the outer tree wrote. `base.mount-through-link`
 * when a folder above the mount is a symlink (or a file) in the base; `base.mount-not-folder` when the mount is.
 */
export function mountParents(tree: string, mount: string, nodes: BaseNodes, baseRef: string, others: readonly string[] = []): MountParents {
  const folders = foldersOf(mount);
  const outer = others.map((o) => foldersOf(o).at(-1) ?? '');
  const insideOther = new Set(folders.slice(0, -1).filter((f) => outer.some((o) => o === '' || f.startsWith(`${o}/`))));
  const out = new Map<string, ParentDir>();
  folders.forEach((dir, i) => {
    const n = nodes.get(dir);
    if (!n) return;
    const own = i === folders.length - 1;
    if (n.type !== 'dir') {
      const link = n.type === 'symlink';
      const target = link ? path.resolve('/', path.dirname(`/${dir}`), n.target) : undefined;
      const there = target ? path.join(target, ...folders[folders.length - 1]!.split('/').slice(i + 1)) : undefined;
      const held = link ? `a symlink to ${n.target}` : n.what;
      if (own) {
        throw new GamelayerError(
          'base.mount-not-folder',
          `${tree}: mount ${mount} is, in the base image ${baseRef}, ${held}, not a folder: the layer's folder /${dir} would replace it`,
          link ? `mount the tree at the link's target (${there})` : `mount the tree at a path the base image holds as a folder or lacks, or change the base image`,
        );
      }
      throw new GamelayerError(
        'base.mount-through-link',
        `${tree}: mount ${mount} goes through /${dir}, which the base image ${baseRef} holds as ${held}: the layer's folder /${dir} would replace it`,
        link ? `mount the tree at the link's target (${there})` : `mount the tree at a path the base image holds as folders, or change the base image`,
      );
    }
    if (insideOther.has(dir)) return;
    if (n.uid !== 0 || n.gid !== 0 || n.mode !== 0o755) out.set(dir, { uid: n.uid, gid: n.gid, mode: n.mode });
  });
  return out;
}

/** mountParents of every tree, each knowing the others' mounts (nested mounts). */
export function treesMountParents<T extends string>(mounts: Record<T, string>, nodes: BaseNodes, baseRef: string): Record<T, MountParents> {
  const all = Object.entries(mounts) as [T, string][];
  return Object.fromEntries(all.map(([t, m]) => [t, mountParents(t, m, nodes, baseRef, all.filter(([o]) => o !== t).map(([, om]) => om))])) as Record<T, MountParents>;
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
