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

/** Throws scan.mount-hidden when `manifest` holds a non-folder at a folder above another tree's mount. */
export function assertNothingAboveMounts(config: Pick<GameConfig, 'trees'>, manifest: TreeManifest): void {
  const outer = config.trees[manifest.tree].mount;
  // Each folder above an inner mount, relative to the outer tree's mount, with the tree mounted below it.
  const above = new Map<string, TreeName>();
  for (const inner of TREE_NAMES) {
    const mount = config.trees[inner].mount;
    if (inner === manifest.tree || mount === outer) continue;
    const rel = path.posix.relative(outer, mount);
    if (rel === '' || rel.startsWith('..')) continue;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) above.set(parts.slice(0, i).join('/'), inner);
  }
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
