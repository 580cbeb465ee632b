// Folders a run creates on its way (a new --store): on failure the empty ones are removed again, so a failed first
// build leaves no empty `<store>/.holds/` behind. Only empty folders go (rmdir): anything stored in them stays.
import { rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';

/** The outermost folder of `dir`'s path that does not exist yet (what creating `dir` would create first), if any. */
export async function firstMissingFolder(dir: string): Promise<string | undefined> {
  let missing: string | undefined;
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      await stat(at);
      return missing;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') return missing;
      missing = at;
      if (path.dirname(at) === at) return missing;
    }
  }
}

/** Removes `from` and its parents up to and including `upTo` while they are empty; stops at the first that is not. */
export async function removeEmptyFolders(from: string, upTo: string): Promise<void> {
  const top = path.resolve(upTo);
  for (let at = path.resolve(from); ; at = path.dirname(at)) {
    if (!(await rmdir(at).then(() => true, () => false))) return;
    if (at === top || path.dirname(at) === at || !at.startsWith(`${top}${path.sep}`)) return;
  }
}
