// Small blobs to and from a registry, for the artifacts beside an image (the build record, the SBOM, signatures):
// one GET that reads a blob whole (following a redirect to the storage behind the registry), and an in-memory blob
// as an upload source. The caller checks what it read against the digest.
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { pullScope } from './scopes.js';
import type { RegistryClient } from './client.js';
import type { BlobSource } from './upload.js';
import { sha256Digest } from '../oci/layout.js';

/** The OCI empty descriptor: `{}` as config of an artifact that needs none. */
export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

/** The most a small blob may be (a build record of a very large game is tens of MB). */
export const MAX_SMALL_BLOB = 512 * 1024 * 1024;

/** GET a (small) blob, following a redirect to the storage behind the registry (ECR sends S3 URLs). */
export async function getSmallBlob(client: RegistryClient, repo: string, digest: string, what: string, maxBytes = MAX_SMALL_BLOB): Promise<Buffer> {
  const first = new URL(`/v2/${repo}/blobs/${digest}`, client.base);
  const res = await client.request({ method: 'GET', target: first, scopes: [pullScope(repo)], ok: [200, 301, 302, 303, 307, 308], what });
  if (res.status === 200) return res.buffer(maxBytes);
  const location = res.header('location');
  await res.discard();
  if (!location) throw new GamelayerError('registry.protocol', `${what}: ${client.host} redirected without a Location`);
  const moved = await client.request({ method: 'GET', target: client.resolve(location, first), scopes: [], ok: [200], what });
  return moved.buffer(maxBytes);
}

/**
 * A small blob whose descriptor gives its size, or undefined when the answer is longer than that: another blob, which
 * the caller reports as it reports bytes of another digest. An endless answer is read no further than the size (it
 * was read on to MAX_SMALL_BLOB: half a GiB in memory, and as much again to join it, for a 2 KiB build record).
 */
export async function getSizedBlob(client: RegistryClient, repo: string, d: { digest: string; size: number }, what: string): Promise<Buffer | undefined> {
  try {
    return await getSmallBlob(client, repo, d.digest, what, Math.min(d.size, MAX_SMALL_BLOB));
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'registry.too-large') return undefined;
    throw e;
  }
}

/** Bytes in memory as an upload source (any byte range; its digest is that of the bytes). */
export function bufferSource(digest: string, bytes: Buffer, origin: string): BlobSource {
  return {
    digest,
    size: bytes.length,
    origin,
    open: (start = 0, end = bytes.length - 1) => Readable.from([bytes.subarray(start, end + 1)]),
    actualDigest: async () => sha256Digest(bytes),
  };
}
