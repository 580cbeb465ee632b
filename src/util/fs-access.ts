// Folders gamelayer writes that it may not (a read-only or foreign-owned state folder), and output paths of the
// wrong kind (`--out` naming a file): one clear error each, instead of a bare EACCES or EEXIST from deep inside.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { isSameOrInside, realPathOfExisting } from './real-path.js';

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);
const TEMP_NAME = /\.tmp$|\d+-[0-9a-f]{8}-[0-9a-f]{12}/;

/** Whether `e` says the file system refused a write (permissions, a read-only mount). */
export function isWriteDenied(e: unknown): boolean {
  const code = errnoCode(e);
  return code !== undefined && DENIED.has(code);
}

/** The path a refused write names; for a temp file, the folder it was to be written in (its name means nothing). */
export function deniedWhere(e: unknown): string {
  const file = (e as { path?: string }).path;
  if (file === undefined) return 'a file';
  return TEMP_NAME.test(path.basename(file)) ? path.dirname(file) : file;
}

/** `e` as a `state.unwritable` GamelayerError naming the path when the file system refused a write; else `e`. */
export function writeDeniedError(e: unknown): unknown {
  if (!isWriteDenied(e)) return e;
  const where = deniedWhere(e);
  const code = errnoCode(e)!;
  // Inside a state folder: say what lives there. Elsewhere (an --out folder, a store of its own) that would mislead.
  const inState = where.split(path.sep).includes('.gamelayer');
  return new GamelayerError(
    'state.unwritable',
    `${where}: cannot write (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}, ${code})`,
    inState
      ? "gamelayer writes its caches, records and local store under the game's .gamelayer/ folder (and the store's folder): " +
          'make them writable for this user, or run as their owner; scan and diff also run on a read-only state folder'
      : `make ${where} writable for this user (or run as its owner), or write elsewhere (--out, --store)`,
    { cause: e },
  );
}

/** Refuses an output folder (`--out DIR`) that exists as something other than a folder. */
export async function assertOutFolder(dir: string, flag: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (s && !s.isDirectory()) {
    throw new GamelayerError('cli.out-not-folder', `${flag} ${dir}: is a file, not a folder`, `name a folder (it is created when missing), not ${dir}`);
  }
}

/** Refuses an output file (`--out FILE`) that exists as a folder. */
export async function assertOutFile(file: string, flag: string): Promise<void> {
  const s = await stat(file).catch(() => undefined);
  if (s?.isDirectory()) {
    throw new GamelayerError('cli.out-is-folder', `${flag} ${file}: is a folder, not a file`, 'name the file to write, e.g. buildspec.yml inside that folder');
  }
}

/**
 * Fails with `state.unwritable` before any work when `dir` (or, when it does not exist yet, the folder it
 * would be created in) may not be written by this user: a build must not scan and compress for minutes first.
 */
export async function assertWritableFolder(dir: string): Promise<void> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      await access(at, constants.W_OK);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' && path.dirname(at) !== at) {
        at = path.dirname(at);
        continue;
      }
      // A path through a file (`store: gamelayer.yaml/oci`) or a loop of links: an internal ENOTDIR or ELOOP.
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        const why = code === 'ELOOP' ? 'its symbolic links loop (ELOOP)' : 'a part of the path is a file, not a folder (ENOTDIR)';
        throw new GamelayerError('state.unwritable', `${at}: cannot write: ${why}`, 'name a folder there (it is created when missing), or name another folder', { cause: e });
      }
      throw writeDeniedError(Object.assign(e as Error, { path: at }));
    }
    // A file where the folder is (`.gamelayer` a file) passed the check, and its first mkdir failed as an internal ENOTDIR.
    const s = await stat(at).catch(() => undefined);
    if (s && !s.isDirectory()) {
      throw new GamelayerError('state.unwritable', `${at}: is a file, not a folder`, `a folder is written there: remove or move ${at}, or name another folder`);
    }
    return;
  }
}

/**
 * A folder no output may go into, and the config field that names it (`trees.app.source`); with the tree's globs,
 * only where they would take what is written (an engine tree `source: .` with `include: ['*.so', …]` takes no `k8s/`).
 */
export interface GuardedFolder {
  folder: string;
  field: string;
  globs?: { include: readonly string[]; exclude: readonly string[]; excludeField: string };
}

/**
 * Refuses an output path (`--out app/k8s`: `kind` folder, or `--context ctx.tar`: file) that is, or lies inside, a
 * guarded folder (a tree's source) whose globs take it: the next build would put the generated files into that
 * tree's image. Real paths are compared, so a symlink gets no further.
 */
export async function assertOutsideFolders(
  out: string,
  flag: string,
  guarded: GuardedFolder[],
  opts: { kind?: 'file' | 'folder'; configDir?: string } = {},
): Promise<void> {
  const kind = opts.kind ?? 'folder';
  const real = realPathOfExisting(out);
  for (const g of guarded) {
    const folder = realPathOfExisting(g.folder);
    if (!isSameOrInside(folder, real)) continue;
    const rel = path.relative(folder, real).split(path.sep).join('/');
    // The matcher loads only here: this module is part of every command's frame (`--version` loads no glob library).
    if (g.globs && !(await import('./glob-match.js')).globsTake(g.globs.include, g.globs.exclude, rel, kind === 'folder')) continue;
    // A folder beside gamelayer.yaml is outside the trees unless the yaml is in this source (`source: .`); then
    // leaving the output out of the tree is the way.
    const besideConfig = opts.configDir === undefined || !isSameOrInside(folder, realPathOfExisting(opts.configDir)) ? ' (a folder beside gamelayer.yaml such as deploy/)' : '';
    const leaveOut = g.globs && rel !== '' ? `, leave it out of the tree (add "${kind === 'folder' ? `${rel}/**` : rel}" to ${g.globs.excludeField} in gamelayer.yaml)` : '';
    throw new GamelayerError(
      'cli.out-in-tree',
      `${flag} ${out}: inside ${g.field} (${g.folder}); the next build would put what is written there into that tree's image`,
      `write it outside the trees' sources${besideConfig}${leaveOut}, or change ${g.field} in gamelayer.yaml`,
    );
  }
}
