// A tree whose include / exclude globs leave nothing of a source that holds files: a typo in a glob
// (`include: ["Server.x86"]` for `Server.x86_64`) built an image without the engine, and nothing said so.
import { readdir } from 'node:fs/promises';
import type { Filters } from './walk-dir.js';

/** The warning for a tree scanned empty by its globs from a source that is not empty; undefined otherwise. */
export async function emptyByGlobs(field: string, source: string, filters: Filters, entries: number): Promise<string | undefined> {
  if (entries > 0) return undefined;
  const defaults = filters.include.length === 1 && filters.include[0] === '**' && filters.exclude.length === 0;
  if (defaults) return undefined; // an empty folder, meant to be one (gamelayer-empty)
  // A folder with nothing in it would give an empty tree whatever the globs; an archive (ENOTDIR) is taken as not empty.
  const holds = await readdir(source).then((names) => names.length > 0, () => true);
  if (!holds) return undefined;
  // The include as written; the exclude also holds what the loader adds (other trees' mounts, gamelayer's folders).
  const globs = `include ${JSON.stringify(filters.include)}${filters.exclude.length ? ' with its excludes' : ''}`;
  return `${field}: ${globs} left nothing of ${source}, which is not empty: the tree is empty (globs are relative to the source)`;
}
