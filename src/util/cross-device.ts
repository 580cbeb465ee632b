// A rename across file systems (EXDEV): every file gamelayer keeps (a blob, index.json, a record, a cache) is written
// in a temp folder and renamed into place, which only works on one file system. A folder inside the store or the
// state folder made a symlink (or a mount) to another disk gave error[internal] with a hint to report a bug.
import { GamelayerError, errnoCode } from '../errors.js';

/** `e` as `disk.cross-device` naming both paths when it is an EXDEV; otherwise `e` itself (GamelayerErrors pass). */
export function crossDeviceError(e: unknown): unknown {
  if (e instanceof GamelayerError || errnoCode(e) !== 'EXDEV') return e;
  const { path: from, dest: to } = e as { path?: unknown; dest?: unknown };
  const paths = typeof from === 'string' && typeof to === 'string' ? `${from} -> ${to}: ` : '';
  return new GamelayerError(
    'disk.cross-device',
    `${paths}cannot rename across file systems (EXDEV): a folder gamelayer writes into is a symlink or a mount to another file system than the folder beside it`,
    'files are written in a temp folder and renamed into place, on one file system: move or link the whole store (store: in gamelayer.yaml, or --store) or the whole .gamelayer/ folder instead of a folder inside it; nothing half-written was kept',
    { cause: e },
  );
}
