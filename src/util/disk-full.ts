// Out of space (or over quota) while writing: one clear error that names the folder being written, instead of
// a bare ENOSPC from deep inside a stream.
import { GamelayerError, errnoCode, type ErrorCode } from '../errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** What to do, per place: the store can be pointed elsewhere; the state folder is always beside gamelayer.yaml. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  'store.disk-full':
    'free space on that file system, or point the store (--store, or store: in gamelayer.yaml) at a bigger one; nothing half-written was kept',
  'init.disk-full': 'free space on that file system and run gamelayer init again; gamelayer.yaml was not written',
  'state.disk-full':
    "free space on that file system (gamelayer's state folder .gamelayer/ is beside gamelayer.yaml); nothing half-written was kept",
};

/** `e` as a `<code>` GamelayerError naming `dir` when it is a full disk or quota; otherwise `e` itself. */
export function diskFullError(e: unknown, code: ErrorCode, dir: string, what: string): unknown {
  const errno = errnoCode(e);
  if (!errno || !FULL.has(errno)) return e;
  return new GamelayerError(code, `${dir}: no space left on the device while writing ${what} (${errno})`, HINTS[code] ?? 'free space on that file system', {
    cause: e,
  });
}
