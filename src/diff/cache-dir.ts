// Where `diff DIR DIR` keeps the stat cache of the folders it compares: the temp folder, where any user may create
// names. A cache in a folder another user made, or may write, could claim any content for a file whose size, times
// and inode it names, so that a changed file diffs as unchanged. Only a folder of this user's own that no one else
// may write is used; otherwise the scan runs without an earlier cache, in a fresh private folder removed after.
import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import type { Reporter } from '../report/reporter.js';

export interface DiffCacheDir {
  dir: string;
  dispose(): Promise<void>;
}

export async function diffCacheDir(reporter?: Reporter, tmp = os.tmpdir()): Promise<DiffCacheDir> {
  const uid = process.getuid?.();
  const dir = path.join(tmp, `gamelayer-diff-cache${uid === undefined ? '' : `-${uid}`}`);
  await mkdir(dir, { mode: 0o700 }).catch((e: unknown) => {
    if (errnoCode(e) !== 'EEXIST') throw e;
  });
  const s = await lstat(dir);
  const own = s.isDirectory() && (uid === undefined || s.uid === uid) && (s.mode & 0o022) === 0;
  if (own) return { dir, dispose: async () => {} };
  const why = !s.isDirectory() ? 'is not a folder' : uid !== undefined && s.uid !== uid ? `belongs to uid ${s.uid}` : 'may be written by others';
  reporter?.warn(`${dir} ${why}: its stat cache is not trusted; every file is hashed`);
  const fresh = await mkdtemp(path.join(tmp, 'gamelayer-diff-'));
  return { dir: fresh, dispose: () => rm(fresh, { recursive: true, force: true }) };
}
