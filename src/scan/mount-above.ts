// A tree mounted inside another's owns its mount path, and the outer tree leaves that path out (config/load.ts). An
// entry of the outer tree at a folder *above* that mount must still be a folder: a symlink or a file there replaces
// the folder in the image, and whichever layer sits higher wins. The app layer sits above app-media's, so an app link
// `Content -> /tmp` hid every pak mounted at Content/Paks (docker, ctr and umoci all show no Paks folder), and a
// volume mounted there would be mounted through the link. Refused once the outer tree is scanned, before any layer.
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { eachEntry } from '../entries/packed-list.js';
import { GamelayerError } from '../errors.js';
import { TREE_NAMES, type TreeManifest, type TreeName } from '../types.js';

/** Each folder between `tree`'s mount and another tree's mount inside it, relative to `tree`'s mount, with the tree mounted below it. */
function foldersAboveInnerMounts(mounts: Record<TreeName, string>, tree: TreeName): Map<string, TreeName> {
  const outer = mounts[tree];
  const above = new Map<string, TreeName>();
  for (const inner of TREE_NAMES) {
    const mount = mounts[inner];
    if (inner === tree || mount === outer) continue;
    const rel = path.posix.relative(outer, mount);
    if (rel === '' || rel.startsWith('..')) continue;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) above.set(parts.slice(0, i).join('/'), inner);
  }
  return above;
}

/**
 * The folders between nested mounts (of those in `wanted`, image paths without a leading `/`) that an outer tree's
 * source holds: that tree's layers write them (root 0755), so the inner trees' layers write them alike
 * (plan/mount-parents.ts). Walks only the manifests of trees with a mount inside theirs, and only when asked for a
 * folder.
 */
export function heldAboveMounts(mounts: Record<TreeName, string>, manifests: readonly TreeManifest[], wanted: ReadonlySet<string>): Set<string> {
  const held = new Set<string>();
  if (wanted.size === 0) return held;
  for (const m of manifests) {
    const prefix = path.posix.normalize(mounts[m.tree]).replace(/^\/+|\/+$/g, '');
    const asked = [...foldersAboveInnerMounts(mounts, m.tree).keys()].map((rel) => [rel, prefix ? `${prefix}/${rel}` : rel] as const).filter(([, abs]) => wanted.has(abs));
    if (asked.length === 0) continue;
    const byRel = new Map(asked);
    for (const e of eachEntry(m.entries)) if (e.type === 'dir' && byRel.has(e.path)) held.add(byRel.get(e.path)!);
  }
  return held;
}

/** Throws scan.mount-hidden when `manifest` holds a non-folder at a folder above another tree's mount. */
export function assertNothingAboveMounts(config: Pick<GameConfig, 'trees'>, manifest: TreeManifest): void {
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  // Each folder above an inner mount, relative to the outer tree's mount, with the tree mounted below it.
  const above = foldersAboveInnerMounts(mounts, manifest.tree);
  if (above.size === 0) return;
  // Through the packed columns: the list view costs per entry read, and this runs on every scan with nested mounts.
  for (const e of eachEntry(manifest.entries)) {
    const inner = above.get(e.path);
    if (inner === undefined || e.type === 'dir') continue;
    const label = manifest.platform ? `${manifest.tree} (${manifest.platform})` : manifest.tree;
    const mount = config.trees[inner].mount;
    throw new GamelayerError(
      'scan.mount-hidden',
      `${label}: ${e.path} is a ${e.type === 'symlink' ? 'symlink' : 'file'} (in ${manifest.root}), and it sits above ${mount}, the mount of tree ${inner}: ` +
        'in the image it would hide that tree',
      `make ${e.path} a folder, exclude it (trees.${manifest.tree}.exclude), or mount ${inner} elsewhere`,
    );
  }
}
