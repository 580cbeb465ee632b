// The one check that a folder is an existing OCI image layout of the version gamelayer reads: the store opened to
// read (`OciStore.open(dir, { create: false })`) and a layout read for its images (`openLayout`) both make it.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { readSmallFile } from '../util/small-file.js';

export const OCI_LAYOUT_FILE = 'oci-layout';

/**
 * An existing layout, told apart from a missing folder (`store.missing`), a file or a folder without `oci-layout`
 * (`store.not-layout`) and another layout version (`store.layout-version`). Each message starts with the folder, so
 * a caller may put the option that named it in front (`--store`); a missing folder's error has the errno as cause.
 */
export async function checkLayoutFolder(dir: string): Promise<void> {
  const s = await stat(dir).catch((e: unknown) => e as Error);
  if (s instanceof Error) {
    const code = errnoCode(s);
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    throw new GamelayerError('store.missing', `${dir}: ${missing ? 'the store does not exist' : `cannot read the store (${code ?? s.message})`}`, undefined, { cause: s });
  }
  if (!s.isDirectory()) throw new GamelayerError('store.not-layout', `${dir}: is a file, not a store folder`);
  // Read only as a regular file of bounded size: a FIFO there would block, /dev/zero would never end.
  const read = await readSmallFile(path.join(dir, OCI_LAYOUT_FILE), 64 << 10).catch((e: unknown) => {
    const code = errnoCode(e);
    throw new GamelayerError('store.not-layout', `${dir}: not an OCI image layout (${code === 'ENOENT' ? `no ${OCI_LAYOUT_FILE} file` : `${OCI_LAYOUT_FILE}: ${code ?? e}`})`);
  });
  if (!('bytes' in read)) {
    throw new GamelayerError('store.not-layout', `${dir}: not an OCI image layout (${OCI_LAYOUT_FILE}: ${'notFile' in read ? read.notFile : `${read.tooBig} bytes`})`);
  }
  const layout = read.bytes.toString('utf8');
  if (!/"imageLayoutVersion"\s*:\s*"1\.0\.0"/.test(layout)) {
    throw new GamelayerError('store.layout-version', `${dir}: unsupported image layout version in ${OCI_LAYOUT_FILE} (gamelayer reads 1.0.0)`);
  }
}


/** What a store folder holds before its `oci-layout` is written: a first run killed early leaves some of these. */
const STORE_OWN = new Set(['blobs', 'index.json', '.tmp', '.holds']);

/**
 * A folder a new store may be made in: absent, empty, already a layout, or holding only a store's own names (a first
 * run killed before its `oci-layout`). Any other folder (`store: /`, `store: .` in a game folder) is refused before
 * anything is written: the store would put its blobs, index and temp folders among a user's files.
 */
export async function checkNewStoreFolder(dir: string): Promise<void> {
  const names = await readdir(dir).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return [] as string[];
    if (errnoCode(e) === 'ENOTDIR') throw new GamelayerError('store.not-layout', `${dir}: is a file, not a store folder`);
    throw e;
  });
  if (names.includes(OCI_LAYOUT_FILE)) return;
  const foreign = names.filter((n) => !STORE_OWN.has(n)).sort();
  if (!foreign.length) return;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
  throw new GamelayerError(
    'store.not-layout',
    `${dir}: not an OCI image layout (no ${OCI_LAYOUT_FILE} file) and not empty (${shown}): gamelayer does not make a store among other files`,
    'point store: in gamelayer.yaml (or --store) at a new or empty folder; the default is .gamelayer/oci beside gamelayer.yaml',
  );
}
