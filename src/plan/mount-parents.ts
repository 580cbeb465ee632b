// The folders a tree's layer writes above its mount take what the base image has there: a runtime shows the layer's
// copy of a folder, so `/home/steam` written as root 0755 over a base's uid-1000 0750 one took the server's home
// from it (`COPY app /home/steam/game` keeps it). A folder the base lacks, or holds as root 0755, is written as
// before (root 0755), so those layers keep their bytes and keys. The mount folder itself likewise (stop 44): it was
// root 0755 whatever the base held there. So do the folders between two nested mounts that the outer tree's source
// lacks (stop 45): nothing of the outer tree writes them, so the inner tree's layers showed root 0755 over the base's.
// A mount through a base symlink, or at one, is refused: the layer's folder would replace the link.
import path from 'node:path/posix';
import { GamelayerError } from '../errors.js';
import { heldAboveMounts } from '../scan/mount-above.js';
import type { TreeManifest, TreeName } from '../types.js';

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
export function foldersOf(mount: string): string[] {
  const parts = mount.split('/').filter((p) => p !== '' && p !== '.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * What `tree`'s layers write above and at `mount` on a base of `nodes`. The mount folder itself is the tree's root:
 * where the base holds it as a folder, the layers keep the base's owner and mode there (as `COPY app /srv/game` keeps an
 * existing destination folder); where it does not, root 0755, as every folder of a tree is written (scan.normalizeMode).
 * A folder strictly inside another tree's mount (`others`: nested mounts) that the outer tree's source holds (`held`)
 * is that tree's, which writes it root 0755: this tree's layers write it so too, never changing what the outer tree
 * wrote. One the outer tree's source lacks is written by no other layer: it takes the base's, as above (without
 * `held`, every such folder is taken as the outer tree's, the rule before stop 45). `base.mount-through-link` when a
 * folder above the mount is a symlink (or a file) in the base; `base.mount-not-folder` when the mount is.
 */
export function mountParents(tree: string, mount: string, nodes: BaseNodes, baseRef: string, others: readonly string[] = [], held?: ReadonlySet<string>): MountParents {
  const folders = foldersOf(mount);
  const outer = others.map((o) => foldersOf(o).at(-1) ?? '');
  const inside = (f: string) => outer.some((o) => o === '' || f.startsWith(`${o}/`));
  // With `held`, another tree's mount folder is not held either: that tree writes it by the rule of mount folders.
  const outersOwn = (f: string) => inside(f) && (held === undefined || (held.has(f) && !outer.includes(f)));
  const insideOther = new Set(folders.slice(0, -1).filter(outersOwn));
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

/** mountParents of every tree, each knowing the others' mounts (nested mounts) and the folders between them they hold. */
export function treesMountParents<T extends string>(mounts: Record<T, string>, nodes: BaseNodes, baseRef: string, held?: ReadonlySet<string>): Record<T, MountParents> {
  const all = Object.entries(mounts) as [T, string][];
  return Object.fromEntries(all.map(([t, m]) => [t, mountParents(t, m, nodes, baseRef, all.filter(([o]) => o !== t).map(([, om]) => om), held)])) as Record<T, MountParents>;
}

/**
 * The folders between nested mounts: strictly above a tree's mount and strictly inside another's, not a mount
 * themselves. What the inner tree's layers write there depends on the outer tree's source (mountParents' `held`).
 */
export function foldersBetweenMounts(mounts: Readonly<Record<string, string>>): string[] {
  const own = Object.values(mounts).map((m) => foldersOf(m).at(-1) ?? '');
  const out = new Set<string>();
  for (const m of Object.values(mounts)) {
    for (const f of foldersOf(m).slice(0, -1)) if (!own.includes(f) && own.some((o) => o === '' || f.startsWith(`${o}/`))) out.add(f);
  }
  return [...out].sort();
}

/** Of `paths`, those `nodes` holds as folders other than root 0755, with their owner and mode. */
function ownedFolders(paths: readonly string[], nodes: BaseNodes): MountParents {
  const out = new Map<string, ParentDir>();
  for (const p of paths) {
    const n = nodes.get(p);
    if (n?.type === 'dir' && (n.uid !== 0 || n.gid !== 0 || n.mode !== 0o755)) out.set(p, { uid: n.uid, gid: n.gid, mode: n.mode });
  }
  return out;
}

/**
 * treesMountParents with the trees' sources known (`manifests`, one per tree): a folder between nested mounts is the
 * outer tree's where its source holds it, else the base's. `between`: the base's own folders there (the record keeps
 * them: `parents` lacks those an outer tree holds), undefined when the mounts have no folder between them. Only when
 * the base holds such a folder as its own are the outer trees' manifests walked.
 */
export function sourcesMountParents(mounts: Record<TreeName, string>, nodes: BaseNodes, baseRef: string, manifests: readonly TreeManifest[]): { parents: Record<TreeName, MountParents>; between?: MountParents } {
  const paths = foldersBetweenMounts(mounts);
  const between = ownedFolders(paths, nodes);
  const held = heldAboveMounts(mounts, manifests, new Set(between.keys()));
  return { parents: treesMountParents(mounts, nodes, baseRef, held), ...(paths.length ? { between } : {}) };
}

type KeptDir = { path: string; uid: number; gid: number; mode: number };
type KeptParents = Record<string, Record<string, KeptDir[]>>;

const kept = (dirs: MountParents): KeptDir[] => [...dirs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, d]) => ({ path, ...d }));

/**
 * Per platform and tree, the parents as a build record keeps them (a later build sees whether its layers were made
 * with the same folders; `diff` reads no registry base): none anywhere, no field, so default records are as they were.
 * `between`: per platform with folders between nested mounts, the base's own folders there (none: an empty list).
 */
export function recordedParents(plans: readonly { name: string; parents: Record<string, MountParents>; between?: MountParents }[]): { parents?: KeptParents; between?: Record<string, KeptDir[]> } {
  const out: KeptParents = {};
  const between: Record<string, KeptDir[]> = {};
  for (const p of plans) {
    for (const [tree, dirs] of Object.entries(p.parents)) if (dirs.size) (out[p.name] ??= {})[tree] = kept(dirs);
    if (p.between) between[p.name] = kept(p.between);
  }
  return { ...(Object.keys(out).length ? { parents: out } : {}), ...(Object.keys(between).length ? { between } : {}) };
}

/**
 * The base's folders at the mounts as a record kept them (recordedParents), for sourcesMountParents: each folder of an
 * owner or mode of its own is in a tree's parents, or in `between`. Undefined when the mounts have folders between
 * them (`needsBetween`) and the record kept none for them (a record made before stop 45, whose parents left out
 * such folders whatever the sources held).
 */
export function nodesFromRecord(record: { parents?: KeptParents; between?: Record<string, KeptDir[]> }, platform: string, needsBetween: boolean): BaseNodes | undefined {
  const between = record.between?.[platform];
  if (needsBetween && !between) return undefined;
  const dirs = [...Object.values(record.parents?.[platform] ?? {}).flat(), ...(between ?? [])];
  return new Map(dirs.map((d) => [d.path, { type: 'dir', uid: d.uid, gid: d.gid, mode: d.mode }]));
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
