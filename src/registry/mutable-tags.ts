// The tags of an ECR repository that `--create-repo --immutable-tags` leaves mutable, and the command that exempts
// them on a repository made elsewhere. No AWS SDK here: the push (artifact.ts) and signing (cosign.ts) name them too.

/**
 * The tags `--create-repo --immutable-tags` leaves mutable: the line tags (artifact.ts LINE_TAG_PREFIX), which every build of a line moves so that the next one plans on it.
 */
export const LINE_TAG_FILTER = 'gamelayer-line.*';
/**
 * And the tags named by a digest, which gain entries as builds go on: cosign's `sha256-<hex>.sig` (an unchanged tree
 * image is signed again under each new build's tag, one more signature in the same manifest) and the referrers tag
 * `sha256-<hex>` (one more SBOM). Immutable, the next day's `--sign` build failed after its push (TAG_INVALID).
 */
export const ATTACHMENT_TAG_FILTER = 'sha256-*';
export const MUTABLE_TAG_FILTERS = [LINE_TAG_FILTER, ATTACHMENT_TAG_FILTER];
/** The `aws ecr put-image-tag-mutability` command that makes a repository's tags immutable but those. */
export function exemptCommand(repository: string): string {
  return (
    `aws ecr put-image-tag-mutability --repository-name ${repository} --image-tag-mutability IMMUTABLE_WITH_EXCLUSION ` +
    `--image-tag-mutability-exclusion-filters ${MUTABLE_TAG_FILTERS.map((f) => `filterType=WILDCARD,filter='${f}'`).join(' ')}`
  );
}
