// OCI whiteouts as the planner writes them: `<folder>/.wh.<name>` in a layer hides `<folder>/<name>` (and what is
// under it) in the layers below.
import type { FileEntry } from '../types.js';

export const WHITEOUT_PREFIX = '.wh.';

export function isWhiteout(e: FileEntry): boolean {
  return e.path.startsWith(WHITEOUT_PREFIX, e.path.lastIndexOf('/') + 1);
}

/** The path a whiteout entry hides; undefined for an entry that is not a whiteout. */
export function whiteoutTarget(e: FileEntry): string | undefined {
  const slash = e.path.lastIndexOf('/');
  if (!e.path.startsWith(WHITEOUT_PREFIX, slash + 1)) return undefined;
  return `${e.path.slice(0, slash + 1)}${e.path.slice(slash + 1 + WHITEOUT_PREFIX.length)}`;
}
