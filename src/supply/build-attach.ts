// After `build --push`: the SBOM goes up as a referrer of the server image, then every pushed image (with its
// platform manifests and the SBOM) is signed. Both are content-determined: a no-op build makes the same SBOM and
// finds its own signatures already there, so it sends nothing new.
import type { PushBuildResult } from '../pipeline/steps/push.js';
import type { GameConfig } from '../config/load.js';
import { OciStore } from '../oci/store.js';
import { readLayoutImage } from '../oci/layout.js';
import { BLOB_SOURCE_ANNOTATION, fetchMissingBlobs } from '../registry/partial-layout.js';
import { pushTargetFor, type TargetOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import { attachBuildSbom, serverImage } from '../sbom/attach.js';
import { removeSignatures, signedBy } from '../sign/cosign.js';
import type { Signer } from '../sign/keys.js';
import type { SbomRecord } from '../sbom/cyclonedx.js';
import { signImages, type SignImageResult } from './sign-images.js';

export interface AttachOptions extends TargetOptions {
  config: GameConfig;
  /** The local OCI layout the build wrote. */
  store: string;
  /** The build's record; its plan is not read (see SbomRecord). */
  record: SbomRecord;
  /** `host[:port]/repo` the build was pushed to. */
  repository: string;
  pushed: PushBuildResult;
  sbom?: boolean;
  signer?: Signer;
  /** Called once the SBOM is in the registry, before the signing starts (a stop then says it is there). */
  onSbomAttached?: () => void;
  /** How many of the pushed images are signed, as signImages' onProgress says it. */
  onSignProgress?: (signed: number, of: number) => void;
}

export interface AttachResult {
  /**
   * `replaced`: SBOMs an earlier gamelayer attached to the image under another key, taken off it (attach.ts);
   * `signedByHand`: those of them this key signed though no build made or checked them (`gamelayer sign`).
   */
  sbom?: { digest: string; bytes: number; files: number; upToDate: boolean; bytesSent: number; via: 'referrers' | 'tag'; replaced: string[]; signedByHand: string[] };
  signatures: SignImageResult[];
  /** New signatures made (0 when every image was already signed by this key). */
  signaturesAdded: number;
  bytesSent: number;
}

/**
 * The layers `lacking` of a tree whose SBOM hashes cannot come from its sources (a file changed since the scan, an
 * archive holding two contents under one size and xxh64, a chunked tree's record without chunk lists: source-files.ts).
 * A build planned on a registry record (a fresh host) kept them in the repository without downloading them: they are
 * fetched from the repository just pushed to, each checked against its digest, once (the store keeps them, and the
 * SBOM's cache their file lists).
 */
async function fetchKeptLayers(opts: AttachOptions, lacking: { digest: string; size: number; mediaType: string }[]): Promise<void> {
  if (!lacking.length) return;
  const selector = serverImage(opts.record).digest;
  const image = await readLayoutImage(opts.store, selector, { allowMissing: true });
  const from = { ...image, descriptor: { ...image.descriptor, annotations: { ...image.descriptor.annotations, [BLOB_SOURCE_ANNOTATION]: opts.repository } } };
  await fetchMissingBlobs(opts.store, from, selector, { ...opts, only: lacking });
}

export async function attachSupplyChain(opts: AttachOptions): Promise<AttachResult> {
  const { config, record, pushed, ...rest } = opts;
  const ref = parseReference(opts.repository);
  const target = await pushTargetFor(ref, rest);
  const result: AttachResult = { signatures: [], signaturesAdded: 0, bytesSent: 0 };
  if (opts.sbom) {
    const store = await OciStore.open(opts.store, { create: false });
    const { signer } = opts;
    // SBOMs are signed under the repository's name (signImage). Only a build's signature vouches (BUILD_SBOM_MARK): one
    // `gamelayer sign` made vouches for nothing the build checked, so such an SBOM is made and compared, and noted.
    const byHand = new Set<string>();
    const vouch =
      signer &&
      (async (artifact: string) => {
        const how = await signedBy({ target, repo: ref.repository, digest: artifact, identity: `${ref.registry}/${ref.repository}`, signer });
        if (!how.asBuild && how.any) byHand.add(artifact);
        return how.asBuild;
      });
    const up = await attachBuildSbom(config, store, record, target, ref.repository, {
      vouch,
      fetchLayers: (lacking) => fetchKeptLayers(opts, lacking),
      removeSignatures: (digest) => removeSignatures(target.client, ref.repository, digest),
    });
    const signedByHand = up.replaced.filter((d) => byHand.has(d));
    result.sbom = { digest: up.digest, bytes: up.bytes, files: up.files, upToDate: up.upToDate, bytesSent: up.bytesSent, via: up.via, replaced: up.replaced, signedByHand };
    result.bytesSent += up.bytesSent;
    opts.onSbomAttached?.();
  }
  if (opts.signer) {
    const repo = `${ref.scheme ? `${ref.scheme}://` : ''}${ref.registry}/${ref.repository}`;
    // The SBOM this build attached, or found made from the same inputs and signed by this key or read and checked
    // (attachBuildSbom): not read again. Any other attached SBOM is read and checked by signImages before anything is signed.
    const madeHere = result.sbom ? new Set([result.sbom.digest]) : undefined;
    const signed = await signImages({ ...rest, target, refs: pushed.images.map((image) => `${repo}:${image.tags[0]}`), signer: opts.signer, madeHere, onProgress: opts.onSignProgress });
    for (const s of signed) {
      result.signatures.push(s);
      result.signaturesAdded += s.signed.filter((x) => !x.upToDate).length;
      result.bytesSent += s.bytesSent;
    }
  }
  return result;
}
