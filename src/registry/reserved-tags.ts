// Tags gamelayer itself gives meaning to in a repository. A push that set one on an image (push REF --also-tag
// 1.4.2.gamelayer-record) replaced what it named: the build record, a line's newest record, a signature or SBOM.
import { TREE_NAMES } from '../types.js';
import { LINE_TAG_PREFIX, RECORD_TAG_SUFFIX } from './artifact.js';
import { PRUNED_TAG_SUFFIX } from './prune-records.js';
import { LEFT_TAG_SUFFIX } from './prune-left-notes.js';

/** What `tag` names when gamelayer owns it (a build record, a line tag, a cosign or referrers tag), else undefined. */
export function reservedTagMeaning(tag: string): string | undefined {
  if (tag.endsWith(RECORD_TAG_SUFFIX)) return `the build record of ${tag.slice(0, -RECORD_TAG_SUFFIX.length)}`;
  if (tag.endsWith(PRUNED_TAG_SUFFIX)) return `the build record of ${tag.slice(0, -PRUNED_TAG_SUFFIX.length)} while a prune removes it`;
  if (tag.endsWith(LEFT_TAG_SUFFIX)) return `prune's note of the tags of ${tag.slice(0, -LEFT_TAG_SUFFIX.length)} it left`;
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

/**
 * Why `tag` may not be a build's tag: ending in `-<tree>` it is the form of another build's tree image tag
 * (`1.0.0-app` is the app image of 1.0.0), which pushing the build would replace; undefined when it may.
 * Decided by the name alone, not by the repository's tags: build 1.0.0 may be pushed after 1.0.0-app too, and
 * `ls`, `push` and `prune` read such a tag as a tree tag (treeTagParts) wherever they meet it.
 */
export function buildTagClash(tag: string): string | undefined {
  const parts = treeTagParts(tag);
  return parts && `it is the form of the ${parts.tree} image tag of the build ${parts.build}, which this build's server image would replace in a repository holding both`;
}
