// A manifest PUT that holds up when other hosts push the same content into the same repository at the same moment
// (the platforms of a CodeBuild batch graph). A registry may refuse a manifest whose blobs are all there: CNCF
// distribution 2.8's filesystem driver rewrites a blob's repository link in place (truncate, then write) each time an
// upload of that blob completes, so a manifest PUT that reads the link in between finds it empty and answers
// DIGEST_INVALID (with MANIFEST_BLOB_UNKNOWN for that blob) — distribution/distribution#4478, fixed upstream by #4624.
// After such a refusal the blobs and child manifests the manifest names are asked for again: any really missing is
// sent again by the caller (`resend`), then the PUT is repeated, a bounded number of times. A manifest is still
// never put before everything it names is there: the registry checks that on every PUT.
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { RegistryError, type RegistryClient } from './client.js';
import { backoffDelay, sleep } from './retry.js';
import { sha256Digest } from '../oci/layout.js';

/** Registry codes that say "this manifest names something I cannot find" (or, in distribution's race, a link read empty). */
const REFUSED_FOR_CONTENT = new Set(['DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN', 'MANIFEST_UNKNOWN']);

/** What a manifest names: blobs (config, layers) and child manifests (an index's), with their sizes. */
export interface ManifestReferences {
  blobs: { digest: string; size?: number }[];
  manifests: { digest: string }[];
}

export interface SettledPutOptions {
  /**
   * Sends again what the registry turned out to lack (blob digests and child manifest digests), so the PUT can be
   * tried again. Without it, or when it leaves something missing, the push fails naming what is missing.
   */
  resend?: (missing: { blobs: string[]; manifests: string[] }) => Promise<void>;
  reporter?: Reporter;
}

/** The blobs and child manifests a manifest or index names (what a registry checks before it stores it). */
export function manifestReferences(bytes: Buffer): ManifestReferences {
  let doc: { config?: Ref; layers?: Ref[]; manifests?: Ref[] };
  try {
    doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
  } catch {
    return { blobs: [], manifests: [] };
  }
  const ref = (r: Ref | undefined) => (r && typeof r.digest === 'string' ? [{ digest: r.digest, ...(typeof r.size === 'number' ? { size: r.size } : {}) }] : []);
  return {
    blobs: [...ref(doc.config), ...(Array.isArray(doc.layers) ? doc.layers.flatMap(ref) : [])],
    manifests: Array.isArray(doc.manifests) ? doc.manifests.flatMap(ref) : [],
  };
}
type Ref = { digest?: unknown; size?: unknown };

/** Whether the registry refused a manifest PUT for its content (what it names), not for access or syntax. */
export function refusedForContent(e: unknown): e is RegistryError {
  return e instanceof RegistryError && (e.status === 400 || e.status === 404) && REFUSED_FOR_CONTENT.has(e.registryCode ?? '');
}

/**
 * `client.putManifest`, repeated after a refusal for content once everything the manifest names is checked (and
 * what is missing sent again through `resend`). Gives up after `client.retry.attempts` refusals with
 * `push.manifest-refused`, saying whether the registry holds everything the manifest names.
 */
export async function putManifestSettled(client: RegistryClient, repo: string, reference: string, bytes: Buffer, mediaType: string, opts: SettledPutOptions = {}): Promise<string> {
  const reporter = opts.reporter ?? silentReporter;
  const digest = sha256Digest(bytes);
  for (let refusals = 1; ; refusals++) {
    let refusal: RegistryError;
    try {
      return await client.putManifest(repo, reference, bytes, mediaType);
    } catch (e) {
      // A digest reference our bytes do not hash to is our mistake: asking again cannot help.
      if (!refusedForContent(e) || (reference.startsWith('sha256:') && reference !== digest)) throw e;
      refusal = e;
    }
    const said = `${refusal.registryCode}${refusal.registryMessage ? ` ${refusal.registryMessage}` : ''}`;
    let missing = await lacking(client, repo, manifestReferences(bytes));
    if ((missing.blobs.length || missing.manifests.length) && opts.resend) {
      reporter.info(`note: ${client.host}/${repo} refused manifest ${digest.slice(0, 19)} (${refusal.registryCode}) and lacks ${describe(missing)} it names: sending ${missing.blobs.length + missing.manifests.length === 1 ? 'it' : 'them'} again`);
      await opts.resend(missing);
      missing = await lacking(client, repo, manifestReferences(bytes));
    }
    if (missing.blobs.length || missing.manifests.length) {
      throw new GamelayerError(
        'push.manifest-refused',
        `put manifest ${repo}:${reference}: ${client.host} refused ${digest} (${said}) and lacks ${describe(missing)} it names`,
        'something removed them while this push ran (a prune or lifecycle rule, another host deleting), or the registry lost them: push again',
        { cause: refusal },
      );
    }
    if (refusals >= client.retry.attempts) {
      throw new GamelayerError(
        'push.manifest-refused',
        `put manifest ${repo}:${reference}: ${client.host} refused ${digest} ${refusals} times (last: ${said}), though it holds every blob and manifest it names`,
        'another push writing the same blobs makes some registries refuse a manifest for a moment (distribution 2.8, distribution/distribution#4478); if nothing else pushes there, check the registry: its storage may be damaged',
        { cause: refusal },
      );
    }
    // Everything is there: the refusal came from a write of the same content by another push (see the file header).
    reporter.info(`note: ${client.host}/${repo} refused manifest ${digest.slice(0, 19)} (${refusal.registryCode}) though it holds everything it names (another push writing the same blobs): putting it again`);
    await sleep(backoffDelay(client.retry, refusals));
  }
}

/** What of `refs` the repository lacks now. */
async function lacking(client: RegistryClient, repo: string, refs: ManifestReferences): Promise<{ blobs: string[]; manifests: string[] }> {
  const limit = pLimit(8);
  // Read, not HEADed: the push decided by HEAD answers, and the manifest was refused. A front that answers 200 to a
  // HEAD of a blob the registry lacks made every put fail the same way, said as "it holds every blob" (only here,
  // after a refusal, so a push costs nothing more). One ranged GET per blob: a HEAD first asked what it answers too.
  const there = (b: { digest: string; size?: number }) => client.blobReadable(repo, b.digest, 'push', b.size);
  const [blobs, manifests] = await Promise.all([
    Promise.all(refs.blobs.map((b) => limit(async () => ((await there(b)) ? [] : [b.digest])))),
    Promise.all(refs.manifests.map((m) => limit(async () => ((await client.headManifest(repo, m.digest, 'push')) ? [] : [m.digest])))),
  ]);
  return { blobs: [...new Set(blobs.flat())], manifests: [...new Set(manifests.flat())] };
}

function describe(missing: { blobs: string[]; manifests: string[] }): string {
  const parts = [...missing.blobs.map((d) => `blob ${d}`), ...missing.manifests.map((d) => `manifest ${d}`)];
  return parts.length <= 3 ? parts.join(', ') : `${parts.slice(0, 3).join(', ')} and ${parts.length - 3} more`;
}
