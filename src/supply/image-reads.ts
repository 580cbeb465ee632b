// What signing and verifying read of an image before trusting it: the platform manifests an index lists (checked
// against its digest) and whether an attached SBOM passes verify's checks.
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import { isDigest } from '../oci/layout.js';
import { MEDIA_TYPES, type RegistryClient } from '../registry/client.js';
import type { PushTarget } from '../registry/push.js';
import { readSbomFile, withTempFile, type FoundSbom } from '../sbom/attach.js';

const indexSchema = z.looseObject({ mediaType: z.string().optional(), manifests: z.array(z.looseObject({ digest: z.string().refine(isDigest) })) });

/**
 * The platform manifests under an index (none for a plain manifest). The bytes must hash to `digest`: the children
 * they list are signed with the studio's key, and a registry (or a proxy) answering other bytes would choose them.
 */
export async function childManifests(client: RegistryClient, repo: string, digest: string, mediaType?: string): Promise<string[]> {
  const m = await client.getManifest(repo, digest);
  const where = `${client.host}/${repo}@${digest}`;
  if (m.digest !== digest) throw new GamelayerError('registry.digest', `${where}: the manifest the registry sent hashes to ${m.digest}`);
  let json: unknown;
  try {
    json = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  // An index by what the document says (its mediaType, its `manifests`), as base-pull.ts judges one: a proxy that
  // answers with Content-Type application/json must not leave the platform manifests unsigned and unchecked.
  const doc = json as { mediaType?: unknown; manifests?: unknown } | null | undefined;
  const type = typeof doc?.mediaType === 'string' ? doc.mediaType : (mediaType ?? m.mediaType);
  if (type !== MEDIA_TYPES.ociIndex && type !== MEDIA_TYPES.dockerList && !Array.isArray(doc?.manifests)) return [];
  const parsed = indexSchema.safeParse(json);
  if (!parsed.success) throw new GamelayerError('verify.invalid', `${where} is not a valid image index`);
  return parsed.data.manifests.map((c) => c.digest);
}

/**
 * Why an attached SBOM fails the checks (artifact type, digest, CycloneDX schema, the image it names), or undefined.
 * Checked in a temp file a piece at a time and never read back: a 1M-file game's SBOM is 208 MiB.
 */
export async function sbomProblem(target: PushTarget, repo: string, artifact: string, subject: string, via: FoundSbom['via']): Promise<string | undefined> {
  return withTempFile((file) => readSbomFile(target, repo, artifact, subject, via, file)).then(
    () => undefined,
    (e: unknown) => {
      // The document's own faults; a registry or network failure is not one (sign would say "delete it").
      if (!(e instanceof GamelayerError) || !/^(sbom|referrers)\./.test(e.code)) throw e;
      return e.message;
    },
  );
}
