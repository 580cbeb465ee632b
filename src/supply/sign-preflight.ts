// Before a signed push sends anything: a repository whose signature tags are immutable can hold one signature per
// image digest, and every build that keeps an image from an earlier one (an unchanged tree image) signs it again
// under its own tag, one more signature in the same `sha256-<hex>.sig` manifest. Such a push used to send every
// image, its record and line tag, and only then stop at the signature (`sign.immutable-tag`): the repository held an
// unsigned build. Now it stops before the first byte goes up, from what DescribeRepositories said when the target
// was opened.
import { GamelayerError } from '../errors.js';
import { exemptCommand } from '../registry/mutable-tags.js';
import type { PushTarget } from '../registry/target.js';
import { signatureTag } from '../sign/cosign.js';

/** Any image's signature tag: the repository's filters are wildcards on the name, the same for every digest. */
const SAMPLE_SIGNATURE_TAG = signatureTag(`sha256:${'0'.repeat(64)}`);

/** Throws `sign.immutable-tag` when `target` (repository `repo`, shown as `where`) refuses to move signature tags. */
export function refuseImmutableSignatureTags(target: PushTarget, repo: string, where: string): void {
  if (!target.immutableTag?.(SAMPLE_SIGNATURE_TAG)) return;
  throw new GamelayerError(
    'sign.immutable-tag',
    `${where}:sha256-<hex>.sig cannot take the signatures of a signed build: the repository's tags are immutable, signature tags too, and each image a build keeps from an earlier one is signed again under the new tag, one more signature in its tag; nothing was pushed`,
    `exempt the signature tags (each image is then signed under every build's tag): ${exemptCommand(repo)}`,
  );
}
