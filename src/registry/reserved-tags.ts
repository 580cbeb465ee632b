// Tags gamelayer itself gives meaning to in a repository. A push that set one on an image (push REF --also-tag
// 1.4.2.gamelayer-record) replaced what it named: the build record, a line's newest record, a signature or SBOM.
import { TREE_NAMES } from '../types.js';
import { LINE_TAG_PREFIX, RECORD_TAG_SUFFIX } from './artifact.js';

/** What `tag` names when gamelayer owns it (a build record, a line tag, a cosign or referrers tag), else undefined. */
export function reservedTagMeaning(tag: string): string | undefined {
  if (tag.endsWith(RECORD_TAG_SUFFIX)) return `the build record of ${tag.slice(0, -RECORD_TAG_SUFFIX.length)}`;
  if (tag.startsWith(LINE_TAG_PREFIX)) return `the newest build record of the line ${tag.slice(LINE_TAG_PREFIX.length)}`;
  if (/^sha256-[0-9a-f]{64}/.test(tag)) return `a signature, SBOM or referrers list of the image sha256:${tag.slice(7, 71)}`;
  return undefined;
}

/** `1.4.2-app-media` → the build tag `1.4.2` and tree `app-media`; undefined for a tag not so shaped. */
export function treeTagParts(tag: string): { build: string; tree: string } | undefined {
  // Longest tree names first: `x-app-media` is app-media of x, not app of `x-…`.
  for (const tree of [...TREE_NAMES].sort((a, b) => b.length - a.length)) {
    if (tag.endsWith(`-${tree}`) && tag.length > tree.length + 1) return { build: tag.slice(0, -tree.length - 1), tree };
  }
  return undefined;
}
