// Whether a folder may become (or already is) the store a build writes: checked by reading alone, before the store
// or a hold writes anything in it (OciStore.open, store-holds.ts).
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { checkLayoutFolder, OCI_LAYOUT_FILE } from './layout-folder.js';
import { readLayoutIndex } from './layout.js';

/** What a store folder holds before its `oci-layout` is written: a first run killed early leaves some of these. */
const STORE_OWN = new Set(['blobs', 'index.json', '.tmp', '.holds']);

const HINT = 'point store: in gamelayer.yaml (or --store) at a new or empty folder; the default is .gamelayer/oci beside gamelayer.yaml';

/**
 * A folder a new store may be made in: absent, empty, a layout of the version gamelayer reads with a valid index,
 * or holding only a store's own names (a first run killed before its `oci-layout`). Any other folder (`store: /`,
 * `store: .` in a game folder, one holding only another tool's `index.json`) is refused before anything is
 * written: the store would put its blobs, index and temp folders among a user's files.
 */
export async function checkNewStoreFolder(dir: string): Promise<void> {
  const names = await readdir(dir).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return [] as string[];
    if (errnoCode(e) === 'ENOTDIR') throw new GamelayerError('store.not-layout', `${dir}: is a file, not a store folder`);
    throw e;
  });
  const layout = names.includes(OCI_LAYOUT_FILE);
  if (layout) {
    // Another layout version was written into, and then refused by every reader (ls, inspect, push of the layout).
    await checkLayoutFolder(dir);
  } else {
    const foreign = names.filter((n) => !STORE_OWN.has(n)).sort();
    if (foreign.length) {
      const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
      throw new GamelayerError(
        'store.not-layout',
        `${dir}: not an OCI image layout (no ${OCI_LAYOUT_FILE} file) and not empty (${shown}): gamelayer does not make a store among other files`,
        HINT,
      );
    }
  }
  await checkOwnFolders(dir, names);
  if (!names.includes('index.json')) return;
  // A bad index was found only after blobs/, .tmp/, .holds/ and oci-layout had been made beside it.
  if (layout) {
    await readLayoutIndex(dir);
    return;
  }
  // A store writes its oci-layout before its index: an index alone is a killed first run's (empty), or another's.
  const index = await readLayoutIndex(dir).catch((e: unknown) => e as GamelayerError);
  const why = index instanceof Error ? index.message.replace(`${path.join(dir, 'index.json')}: `, '') : index.manifests.length ? `it lists ${index.manifests.length} manifest${index.manifests.length === 1 ? '' : 's'}` : undefined;
  if (why === undefined) return;
  throw new GamelayerError(
    'store.not-layout',
    `${dir}: not an OCI image layout (no ${OCI_LAYOUT_FILE} file) and its index.json is not one a new store leaves (${why}): gamelayer does not make a store over another's files`,
    HINT,
  );
}

/** The store's own folders, where present: each must be a folder (or a link to one), else the store's first write failed (EEXIST, ENOTDIR) after the hold was made. */
const OWN_FOLDERS = ['blobs', 'blobs/sha256', '.tmp', '.holds'];

async function checkOwnFolders(dir: string, names: string[]): Promise<void> {
  for (const name of OWN_FOLDERS) {
    if (!names.includes(name.split('/')[0]!)) continue;
    const at = path.join(dir, name);
    const link = await lstat(at).catch(() => undefined);
    if (link === undefined) continue; // blobs/sha256 not made yet
    const s = await stat(at).catch((e: unknown) => e as Error);
    const what =
      s instanceof Error
        ? // A dangling link: mkdir -p made the folder it names, outside the store, and the blobs went there.
          `a symbolic link to ${await readlink(at).catch(() => '?')}, which ${errnoCode(s) === 'ELOOP' ? 'loops' : 'does not exist'}`
        : s.isDirectory()
          ? undefined
          : `${kindOf(s)}, not a folder`;
    if (what === undefined) continue;
    throw new GamelayerError('store.not-layout', `${at}: ${what}: the store keeps ${name === '.holds' ? 'the holds of builds' : name === '.tmp' ? 'its temp files' : 'its blobs'} in a folder there`, `remove or move ${at}, or point store: in gamelayer.yaml (or --store) at a new or empty folder`);
  }
}

function kindOf(s: Stats): string {
  return s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : 'a file';
}
