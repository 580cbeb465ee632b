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

/**
 * The last resort (cli/main.ts): a full disk met where no caller named what it was writing (an output file of
 * `dockerfile --out`, `sbom -o`, a new store's first files) is still an error the user can act on, not
 * `error[internal]` with a hint to report a bug.
 */
export function diskFullFallback(e: unknown): unknown {
  if (e instanceof GamelayerError) return e;
  const errno = errnoCode(e);
  if (!errno || !FULL.has(errno)) return e;
  const file = (e as { path?: unknown }).path;
  return new GamelayerError(
    'disk.full',
    `${typeof file === 'string' ? `${file}: ` : ''}no space left on the device (${errno})`,
    'free space on the file system gamelayer was writing to (the output folder, the store, or .gamelayer/ beside gamelayer.yaml) and run again',
    { cause: e },
  );
}

/**
 * A failed write to standard output (`gamelayer … > /dev/full`, a full disk under `> file`): a full disk is
 * `disk.full` naming standard output; anything else stays an internal error, its message naming standard output.
 */
export function stdoutWriteError(e: unknown): Error {
  const errno = errnoCode(e);
  if (errno && FULL.has(errno)) {
    return new GamelayerError(
      'disk.full',
      `standard output: no space left on the device (${errno})`,
      "free space on the file system standard output goes to, or give the command's --out FILE where it has one",
      { cause: e },
    );
  }
  return new Error(`standard output: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
