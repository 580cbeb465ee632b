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
