// What size each of some blobs has in a repository, asked the cheapest way the registry offers.
import pLimit from 'p-limit';
import type { PushTarget } from './target.js';

/**
 * Sizes of the blobs the repository holds (absent ones are missing from the map): on ECR one
 * BatchCheckLayerAvailability per 100 layers gives both; elsewhere one HEAD per blob (its answer says both).
 */
export async function blobSizes(target: PushTarget, repo: string, digests: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (target.availability.sizes) {
    const sizes = await target.availability.sizes(repo, digests);
    const unknown: string[] = [];
    for (const [d, size] of sizes) {
      if (size === undefined) unknown.push(d);
      else out.set(d, size);
    }
    if (!unknown.length) return out;
    digests = unknown;
  }
  // What ECR's batch call left unsaid is asked blob by blob; a HEAD answers presence and size at once.
  const missing = target.availability.sizes ? await target.availability.missing(repo, digests) : new Set<string>();
  const limit = pLimit(8);
  await Promise.all(
    digests
      .filter((d) => !missing.has(d))
      .map((d) =>
        limit(async () => {
          // A redirect (storage behind the registry) says present without a size: not a layer to keep.
          const size = await target.client.blobSize(repo, d);
          if (size !== undefined) out.set(d, size);
        }),
      ),
  );
  return out;
}

