// OCI whiteouts, spelt once: `<folder>/.wh.<name>` in a layer hides `<folder>/<name>` (and what is under it) in the
// layers below; `.wh..wh..opq` hides a folder's lower content. The scan refuses game files so named, the planner
// writes them, the layer writer checks them, the SBOM reads them: here, below every one of those stages.
import type { FileEntry } from '../types.js';

export const WHITEOUT_PREFIX = '.wh.';
/** The opaque marker: a folder's lower content is hidden (not a whiteout of one name). */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** Whether the last part of a "/"-separated path is a whiteout name. */
export function isWhiteoutPath(p: string): boolean {
  return p.startsWith(WHITEOUT_PREFIX, p.lastIndexOf('/') + 1);
}

/** The path a whiteout path hides (`a/.wh.b` → `a/b`); undefined for a path that is not a whiteout. */
export function whiteoutTargetPath(p: string): string | undefined {
  const slash = p.lastIndexOf('/');
  if (!p.startsWith(WHITEOUT_PREFIX, slash + 1)) return undefined;
  return `${p.slice(0, slash + 1)}${p.slice(slash + 1 + WHITEOUT_PREFIX.length)}`;
}

export function isWhiteout(e: FileEntry): boolean {
  return isWhiteoutPath(e.path);
}

/** The path a whiteout entry hides; undefined for an entry that is not a whiteout. */
export function whiteoutTarget(e: FileEntry): string | undefined {
  return whiteoutTargetPath(e.path);
}
