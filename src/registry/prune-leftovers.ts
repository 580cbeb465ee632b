// Tags an earlier prune had to leave: a removed build's `v1-engine` whose image a kept build's `v2-engine` also
// named, or a removed platform build's `1.0-linux-amd64` (and its tree tags) whose image the kept merged build's
// index `1.0` lists. A registry that deletes by digest only (distribution) cannot take one tag of several off an
// image, so the tag stayed. The next prune found it claimed by no build record and kept its image for good (once
// every build using that engine was pruned, the engine image and its layers stayed in the repository forever), and
// advised deleting it by hand, which by digest would have deleted the kept build's image too.
// Such a tag is deleted only when prune can prove it left it: a note it wrote (prune-left-notes.ts) names the tag with
// the image it still names. The name alone proves nothing: a tag put by hand (`release-engine`) has the same shape.
import { RECORD_TAG_SUFFIX } from './artifact.js';
import { PRUNED_TAG_SUFFIX } from './prune-records.js';
import { treeTagParts } from './reserved-tags.js';

/** A platform build's server image tag: `<tag>-linux-<arch>[-<variant>]` (merge-index.ts, platformTag). */
const PLATFORM_TAG = /-linux-[a-z0-9]+(?:-v[5-8])?$/;

/**
 * The tags of `tags` that are such leftovers. No build claims one, and neither the record tag nor the prune mark of
 * its build T is in the repository any more. `<T>-<tree>`: T's server tag is gone too (a record deleted by hand
 * leaves it, and those images stay) or is a leftover itself, and its image is one a build here has as its own
 * `<tree>` image, or one a build's `<tree>` index lists. `<T>` (a platform build's server image): a build's server
 * index lists its image. `listed` gives, per tag of a build that names an index, the digests that index lists.
 * `proven` gives, per tag a prune's note says it left, the digest it named then: no other tag is a leftover.
 */
export function leftoverTags(
  builds: { tag: string; tags: string[] }[],
  tags: Set<string>,
  digestOf: Map<string, string>,
  listed: Map<string, string[]>,
  proven: Map<string, string>,
): string[] {
  const claimed = new Set(builds.flatMap((b) => b.tags));
  // Per role ('' for the server image, else the tree), the images builds here have, and what their indexes list.
  const own = new Map<string, Set<string>>();
  const inIndex = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, role: string, digests: (string | undefined)[]) => {
    const set = map.get(role) ?? new Set<string>();
    for (const d of digests) if (d) set.add(d);
    map.set(role, set);
  };
  for (const b of builds) {
    for (const t of b.tags) {
      const parts = treeTagParts(t);
      const role = t === b.tag ? '' : parts?.build === b.tag ? parts.tree : undefined;
      if (role === undefined) continue;
      add(own, role, [digestOf.get(t)]);
      add(inIndex, role, listed.get(t) ?? []);
    }
  }
  const gone = (build: string) => !tags.has(`${build}${RECORD_TAG_SUFFIX}`) && !tags.has(`${build}${PRUNED_TAG_SUFFIX}`);
  const has = (map: Map<string, Set<string>>, role: string, t: string) => map.get(role)?.has(digestOf.get(t) ?? '') ?? false;
  // Only a platform build's tag, listed by a build's index: a tag put by hand on a build's server image keeps it.
  const ours = (t: string) => digestOf.has(t) && proven.get(t) === digestOf.get(t);
  const serverLeftover = (t: string) => !claimed.has(t) && ours(t) && PLATFORM_TAG.test(t) && gone(t) && has(inIndex, '', t);
  return [...tags]
    .filter((t) => {
      if (claimed.has(t)) return false;
      if (serverLeftover(t)) return true;
      const parts = treeTagParts(t);
      if (!parts || !ours(t) || !gone(parts.build)) return false;
      if (tags.has(parts.build) && !serverLeftover(parts.build)) return false;
      return has(own, parts.tree, t) || has(inIndex, parts.tree, t);
    })
    .sort();
}
