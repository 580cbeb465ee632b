// An image carries one SBOM: the one `build --push --sbom` attached. Anyone who may push can attach another
// well-formed CycloneDX document beside it, and nothing in the registry tells the two apart; `sign` signed both and
// `verify --require-sbom` passed. So every reader refuses an image with more than one (sign signs nothing, verify
// fails, `sbom` prints none) and names them; the one to keep is the one the build printed.
import { GamelayerError } from '../errors.js';
import { referrersTag, type Referrers } from '../registry/referrers.js';

/** What is wrong with `subject`'s SBOMs when there are several, else undefined. */
export function severalSbomsProblem(subject: string, found: Referrers): string | undefined {
  if (found.manifests.length < 2) return undefined;
  return `${found.manifests.length} SBOMs are attached to ${subject} (${found.manifests.map((m) => m.digest).join(', ')}); an image carries one`;
}

/** How to remove the extra ones (the referrers API lists what is there; the tag schema lists what its index holds). */
export function severalSbomsHint(repository: string, subject: string, via: Referrers['via']): string {
  const index = via === 'tag' ? `, and put the referrers index ${repository}:${referrersTag(subject)} again without it` : '';
  return (
    'keep the one gamelayer build --push REPO --sbom printed (its "SBOM sha256:…" line); another was attached by someone ' +
    `with push rights to ${repository}: delete it (DELETE /v2/<repo>/manifests/<digest>; on ECR aws ecr batch-delete-image)${index}`
  );
}

/** Refuses `name` (what the user asked for) when `subject` carries several SBOMs, before anything reads or signs them. */
export function refuseSeveralSboms(name: string, repository: string, subject: string, found: Referrers, hintPrefix = ''): void {
  const problem = severalSbomsProblem(subject, found);
  if (problem) throw new GamelayerError('sbom.several', `${name}: ${problem}`, `${hintPrefix}${severalSbomsHint(repository, subject, found.via)}`);
}
