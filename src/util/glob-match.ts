// The one way gamelayer matches a tree's include/exclude globs against entry paths. picomatch's regexes use `.`,
// which in JavaScript does not match "\n", "\r", U+2028 or U+2029: a file so named matched no `*` or `**` and was
// silently left out of the layer. The `s` (dotAll) flag makes every character an ordinary one; `dot` takes names
// starting with "." as `*` takes others (a game's `.ini` or `.git` is content like any other file).
import picomatch from 'picomatch';

const OPTIONS = { dot: true, posix: true, flags: 's' } as const;

export type PathMatcher = (rel: string) => boolean;

/** A predicate true for a relative, "/"-separated path matched by any of `patterns` (false for none). */
export function globMatcher(patterns: readonly string[]): PathMatcher {
  if (patterns.length === 0) return () => false;
  return picomatch([...patterns], OPTIONS);
}

/**
 * The folder a pattern's matches lie below (fast-glob's base, as glob-parent finds it): its leading segments without
 * glob syntax, never its last segment. A walk need not enter a folder outside every include's base.
 */
export function globBase(pattern: string): string {
  const segments = pattern.split('/');
  const base: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    // An escaped character ("\\*") is glob syntax too: the folder's real name differs from the segment.
    if (segment.includes('\\') || picomatch.scan(segment).isGlob) break;
    base.push(segment);
  }
  return base.join('/');
}

/**
 * Whether a tree with these globs takes an entry at `rel` (a "/"-separated path inside its source; `asFolder`: or
 * any entry below it), as the scan's walk does: an excluded entry is dropped with everything below it, and an
 * include must match. Below a folder it answers from the patterns' segments: `**` and a pattern longer than the
 * folder's path whose segments match it may take something there; `*.so` or `MonoBleedingEdge/**` take nothing in
 * `deploy/`. Used to refuse output folders only where the next build would really take what is written.
 */
export function globsTake(include: readonly string[], exclude: readonly string[], rel: string, asFolder: boolean): boolean {
  const segments = rel === '' ? [] : rel.split('/');
  const excluded = globMatcher(exclude);
  for (let i = 1; i <= segments.length; i++) if (excluded(segments.slice(0, i).join('/'))) return false;
  if (!asFolder) return segments.length > 0 && globMatcher(include)(rel);
  return include.some((pattern) => patternMayMatchBelow(pattern.split('/'), segments));
}

/** Whether some path strictly below the folder `folder` (segments) can match the pattern (segments). */
function patternMayMatchBelow(pattern: readonly string[], folder: readonly string[]): boolean {
  // Braces and extglobs may hold a "/" of their own ({a/b,c}): such a pattern is not cut in segments, it may match.
  if (pattern.some((p) => /[{}()]/.test(p))) return true;
  for (let i = 0; i < folder.length; i++) {
    const p = pattern[i];
    if (p === undefined) return false; // the pattern ends above the folder: it names the folder's parents at most
    if (p === '**') return true;
    if (!picomatch(p, OPTIONS)(folder[i]!)) return false;
  }
  return pattern.length > folder.length;
}
