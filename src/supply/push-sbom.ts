// The library's way to attach an SBOM made by makeBuildSbom: the artifact `build --push --sbom` puts (its key
// annotated, so a build recognises, reuses or replaces it), and a replaced SBOM's signatures removed with it.
import type { PushTarget } from '../registry/push.js';
import { attachSbom, type AttachedSbom } from '../sbom/attach.js';
import type { Sbom } from '../sbom/cyclonedx.js';
import { removeSignatures } from '../sign/cosign.js';
import type { Descriptor } from '../types.js';

/** Attaches `sbom` (makeBuildSbom's: it carries its key) to the image `subject` in `repo`. */
export function pushSbom(target: PushTarget, repo: string, subject: Descriptor, sbom: Sbom & { key: string }): Promise<AttachedSbom> {
  return attachSbom(target, repo, subject, sbom, { removeSignatures: (digest) => removeSignatures(target.client, repo, digest) });
}
