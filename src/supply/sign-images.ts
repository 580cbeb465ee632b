// Signing images as a node would pull them: the manifest or index a reference names, every platform manifest under
// an index, and the SBOMs attached to it. `build --sign` signs every pushed image, `index --sign` every merged index:
// one signature after another was most of such a run (15 signatures, ~8 requests each). Everything is read and
// checked first; then distinct digests are signed side by side, each digest once and its names in the order a loop
// over the images would take them (a digest's signatures are layers of one manifest, which each signing rewrites).
import { GamelayerError } from '../errors.js';
import { pushTargetFor, type PushTarget, type TargetOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import { listReferrers, type Referrers } from '../registry/referrers.js';
import { resolveImage, SBOM_ARTIFACT_TYPE } from '../sbom/attach.js';
import { refuseSeveralSboms } from '../sbom/one-sbom.js';
import { signManifest, type SignResult } from '../sign/cosign.js';
import type { Signer } from '../sign/keys.js';
import { runBounded } from '../util/run-bounded.js';
import { childManifests, sbomProblem } from './image-reads.js';

/** Digests signed at once when the target does not say (ECR says 3: its API rates). */
export const SIGN_CONCURRENCY = 4;

export interface SignImagesOptions extends TargetOptions {
  /** Each `host/repo:tag` or `host/repo@sha256:…`. */
  refs: readonly string[];
  signer: Signer;
  target?: PushTarget;
  /** Also sign the SBOMs attached to the images (default true). */
  sboms?: boolean;
  /** SBOM artifacts the caller attached itself (build --sbom): not downloaded and checked again before signing. */
  madeHere?: ReadonlySet<string>;
  /** Digests signed at once (default the target's concurrency, else SIGN_CONCURRENCY); 1 signs one after another. */
  concurrency?: number;
  /**
   * How many of `refs` are signed (with their platform manifests and SBOMs): once as the signing starts (0), then as
   * each image is (a stop meanwhile says how far it got: cli/supply-interrupt.ts).
   */
  onProgress?: (signed: number, of: number) => void;
}

export type SignImageOptions = Omit<SignImagesOptions, 'refs'> & { ref: string };

type What = 'image' | 'platform manifest' | 'sbom';

export interface SignImageResult {
  ref: string;
  digest: string;
  signed: (SignResult & { what: What })[];
  bytesSent: number;
}

/** One image read and checked, not signed yet. */
interface ImagePlan {
  name: string;
  digest: string;
  target: PushTarget;
  repo: string;
  /** `registry/repo:tag`, or `registry/repo` for a digest reference. */
  identity: string;
  /** `registry/repo`: what SBOMs are signed as. */
  repository: string;
  sboms: { digest: string; via: 'referrers' | 'tag' }[];
  /** The SBOMs' listing (none read when `sboms: false`). */
  found?: Referrers;
  children: string[];
}

/** Signs the image `ref` (and its platform manifests and SBOMs) with `signer`, cosign format. */
export async function signImage(opts: SignImageOptions): Promise<SignImageResult> {
  const { ref, ...rest } = opts;
  return (await signImages({ ...rest, refs: [ref] }))[0]!;
}

/**
 * Signs each image of `refs` as signImage does, results in their order. What a loop of signImage would find is
 * found: a digest two images share is signed once under each name, and a second time it is "already signed".
 */
export async function signImages(opts: SignImagesOptions): Promise<SignImageResult[]> {
  const targets = new Map<string, Promise<PushTarget>>();
  // One target (one token, one ping) per registry, not one per image.
  const targetOf = (ref: string) => {
    if (opts.target) return Promise.resolve(opts.target);
    const r = parseReference(ref);
    const key = `${r.scheme ?? ''}://${r.registry}`;
    let t = targets.get(key);
    if (!t) targets.set(key, (t = pushTargetFor(r, opts)));
    return t;
  };
  const first = opts.refs[0];
  if (first === undefined) return [];
  const concurrency = Math.max(1, opts.concurrency ?? (await targetOf(first)).concurrency ?? SIGN_CONCURRENCY);
  const plans = await runBounded(opts.refs, concurrency, async (ref): Promise<ImagePlan> => {
    const target = await targetOf(ref);
    const { ref: r, repo, name, digest } = await resolveImage(ref, { ...opts, target });
    const repository = `${r.registry}/${r.repository}`;
    // A tag is what policies match (skopeo's default matchRepoDigestOrExact); a digest reference signs the repository.
    const identity = r.tag ? `${repository}:${r.tag}` : repository;
    const found = opts.sboms === false ? undefined : await listReferrers(target.client, repo, digest, SBOM_ARTIFACT_TYPE);
    const sboms = found?.manifests.map((m) => ({ digest: m.digest, via: found.via })) ?? [];
    return { name, digest, target, repo, identity, repository, sboms, found, children: [] };
  });
  await refuseBadSboms(plans, opts.madeHere);
  // Then two good ones: which is the image's cannot be told from the registry (sbom/one-sbom.ts).
  for (const p of plans) if (p.found) refuseSeveralSboms(p.name, `${p.target.client.host}/${p.repo}`, p.digest, p.found, 'nothing was signed. ');
  // Read (and checked) before anything is signed: a bad answer leaves no signature behind.
  await runBounded(plans, concurrency, async (p) => {
    p.children = await childManifests(p.target.client, p.repo, p.digest);
  });

  // What a loop over the images would sign, in its order; each digest's names are signed in that order by one task.
  const items = plans.map((p) => [
    { p, digest: p.digest, what: 'image' as What, identity: p.identity },
    ...p.children.map((c) => ({ p, digest: c, what: 'platform manifest' as What, identity: p.identity })),
    ...p.sboms.map((s) => ({ p, digest: s.digest, what: 'sbom' as What, identity: p.repository })),
  ]);
  const digestKey = (i: { p: ImagePlan; digest: string }) => `${i.p.target.client.host}/${i.p.repo}@${i.digest}`;
  const groups = new Map<string, { p: ImagePlan; digest: string; identities: string[] }>();
  for (const i of items.flat()) {
    const g = groups.get(digestKey(i)) ?? { p: i.p, digest: i.digest, identities: [] };
    groups.set(digestKey(i), g);
    if (!g.identities.includes(i.identity)) g.identities.push(i.identity);
  }
  const made = new Map<string, SignResult>();
  // Per image, the signatures it still waits for: it is signed when the last one is made.
  const waiting = items.map((list) => new Set(list.map((i) => `${digestKey(i)} ${i.identity}`)));
  let signedImages = 0;
  opts.onProgress?.(0, plans.length);
  await runBounded([...groups.entries()], concurrency, async ([key, g]) => {
    for (const identity of g.identities) {
      // The SBOM a build made or checked is signed so (BUILD_SBOM_MARK): a later build reuses only such a one.
      const buildSbom = opts.madeHere?.has(g.digest) ?? false;
      made.set(`${key} ${identity}`, await signManifest({ target: g.p.target, repo: g.p.repo, digest: g.digest, identity, signer: opts.signer, buildSbom }));
      for (const w of waiting) if (w.delete(`${key} ${identity}`) && w.size === 0) opts.onProgress?.(++signedImages, plans.length);
    }
  });

  // The first time a digest comes under a name it is the signature made (or found); after that it is there.
  const reported = new Set<string>();
  return plans.map((p, n) => {
    const signed = items[n]!.map((i) => {
      const key = `${digestKey(i)} ${i.identity}`;
      const r = made.get(key)!;
      const again = reported.has(key);
      reported.add(key);
      return { ...r, ...(again ? { upToDate: true, bytesSent: 0 } : {}), what: i.what };
    });
    return { ref: p.name, digest: p.digest, signed, bytesSent: signed.reduce((sum, s) => sum + s.bytesSent, 0) };
  });
}

/**
 * Every attached SBOM is checked before anything is signed: anyone who may push can attach one, and a signature
 * vouches for the document; one that fails verify's checks would be signed and still fail verify. One at a time: a
 * large game's SBOM is hundreds of MiB, read through a temp file.
 */
async function refuseBadSboms(plans: ImagePlan[], madeHere: ReadonlySet<string> | undefined): Promise<void> {
  const problems = new Map<string, string | undefined>();
  for (const p of plans) {
    const bad: string[] = [];
    for (const s of p.sboms) {
      if (madeHere?.has(s.digest)) continue;
      const key = `${p.target.client.host}/${p.repo}@${s.digest} ${p.digest}`;
      if (!problems.has(key)) problems.set(key, await sbomProblem(p.target, p.repo, s.digest, p.digest, s.via));
      const why = problems.get(key);
      if (why) bad.push(why);
    }
    if (bad.length) {
      throw new GamelayerError(
        'sign.sbom-invalid',
        `${p.name}: ${bad.join('; ')}`,
        `nothing was signed. Such an SBOM was not made for this image by gamelayer build --sbom (damaged, or attached by someone else): delete that manifest from ${p.repository} (DELETE /v2/<repo>/manifests/<digest>; on ECR aws ecr batch-delete-image), then sign again`,
      );
    }
  }
}
