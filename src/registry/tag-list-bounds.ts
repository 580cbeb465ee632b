// A repository's tag list is read whole into memory (`ls` shows it, `prune` keeps what it names) and followed page
// by page: a registry (or something in front of one) could list without end, each page up to the 4 MiB of any answer.
// The whole listing is bounded too, far above any real game's repository (ECR holds at most 20,000 images in one).
// A page is not held to the `n` asked for: CNCF distribution answers n=1 with every tag of a small repository.
import { GamelayerError } from '../errors.js';

/** Most tags one repository's listing may hold. */
export const MAX_LISTED_TAGS = 1_000_000;
/** Most bytes of tag-list pages one repository's listing may read. */
export const MAX_LISTED_TAG_BYTES = 64 * 1024 * 1024;

/** The running totals of one listing. */
export interface TagListTotals {
  tags: number;
  bytes: number;
}

/** Adds a page's tags and bytes to `totals`; a listing over either bound is a `registry.too-large` naming `repository`. */
export function countTagPage(totals: TagListTotals, repository: string, tags: number, bytes: number): void {
  totals.tags += tags;
  totals.bytes += bytes;
  if (totals.tags <= MAX_LISTED_TAGS && totals.bytes <= MAX_LISTED_TAG_BYTES) return;
  const over = totals.tags > MAX_LISTED_TAGS ? `more than ${MAX_LISTED_TAGS} tags` : `more than ${MAX_LISTED_TAG_BYTES} bytes of tag list`;
  throw new GamelayerError(
    'registry.too-large',
    `list tags of ${repository}: the registry listed ${over}, more than gamelayer reads of one repository's tags`,
    'the registry (or something between it and you) is broken or hostile, or the repository holds far more tags than a game needs: report it with the registry\'s name and version, or delete tags no build needs',
  );
}
