// The one check that a folder is an existing OCI image layout of the version gamelayer reads: the store opened to
// read (`OciStore.open(dir, { create: false })`) and a layout read for its images (`openLayout`) both make it.
import { stat } from 'node:fs/promises';
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
