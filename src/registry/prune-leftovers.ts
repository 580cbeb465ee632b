// Tree image tags an earlier prune had to leave: a removed build's `v1-engine` whose image a kept build's `v2-engine`
// also named. A registry that deletes by digest only (distribution) cannot take one tag of several off an image, so
// the tag stayed. The next prune found it claimed by no build record and kept its image for good: once every build
// using that engine was pruned, the engine image and its layers stayed in the repository forever.
import { RECORD_TAG_SUFFIX } from './artifact.js';
import { PRUNED_TAG_SUFFIX } from './prune-records.js';
import { treeTagParts } from './reserved-tags.js';

/**
 * The tags of `tags` that are such leftovers: `<T>-<tree>`, no build claims it, neither T's record tag, its prune
 * mark nor its server image tag is in the repository any more (its build is gone, not merely its record: a record
 * deleted by hand leaves the server tag, and those images stay), and its image is one a build here tags as its own
 * `<tree>` image (a gamelayer tree image, not a tag put by hand on another image).
 */
export function leftoverTreeTags(
  builds: { tag: string; tags: string[] }[],
  tags: Set<string>,
  digestOf: Map<string, string>,
): string[] {
  const claimed = new Set(builds.flatMap((b) => b.tags));
  // Per tree, the digests of the images builds here tag as theirs.
  const treeImages = new Map<string, Set<string>>();
  for (const b of builds) {
    for (const t of b.tags) {
      const parts = treeTagParts(t);
      const digest = digestOf.get(t);
      if (!parts || parts.build !== b.tag || !digest) continue;
      treeImages.set(parts.tree, (treeImages.get(parts.tree) ?? new Set()).add(digest));
    }
  }
  return [...tags]
    .filter((t) => {
      if (claimed.has(t)) return false;
      const parts = treeTagParts(t);
      const digest = digestOf.get(t);
      if (!parts || !digest) return false;
      const { build } = parts;
      if (tags.has(build) || tags.has(`${build}${RECORD_TAG_SUFFIX}`) || tags.has(`${build}${PRUNED_TAG_SUFFIX}`)) return false;
      return treeImages.get(parts.tree)?.has(digest) ?? false;
    })
    .sort();
}
