// Paths compared as the file system sees them: a symlink to a folder is that folder. The part of a path that does
// not exist yet (an --out folder to be created) is taken as written, below the real path of its existing parent.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

/** `p` absolute, with every symlink of its longest existing prefix resolved; the missing rest appended as written. */
// Synchronous: config parsing (synchronous) compares its store with its sources this way. One realpath(3) each:
// fs.realpathSync walks the path in JavaScript, an lstat per component (about 2 ms of every build's config check).
export function realPathOfExisting(p: string): string {
  const abs = path.resolve(p);
  const missing: string[] = [];
  for (let at = abs; ; at = path.dirname(at)) {
    try {
      return path.join(realpathSync.native(at), ...missing.reverse());
    } catch (e) {
      const code = errnoCode(e);
      // ENOTDIR/ELOOP/EACCES: nothing better is known than the path as written from here on.
      if (code !== 'ENOENT' || path.dirname(at) === at) return abs;
      missing.push(path.basename(at));
    }
  }
}

/** Whether `inner` is `outer` or lies below it (both absolute, normalised). */
export function isSameOrInside(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}
