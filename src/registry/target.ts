// What a push talks to: a registry client and its blob-availability check. Its own module so that push.ts (which
// picks a target) and ecr.ts (which makes the ECR one) both import it, and neither imports the other back.
import type { RegistryClient } from './client.js';

/** Which blobs a repository lacks. ECR swaps in BatchCheckLayerAvailability; the rest of the push is the same. */
export interface BlobAvailability {
  /** `sizes`, where known, lets a HEAD answer be checked against the blob (see RegistryClient.blobExists). */
  missing(repo: string, digests: string[], sizes?: ReadonlyMap<string, number>): Promise<Set<string>>;
  /** The blobs `repo` holds with their stored size, where one call tells it (ECR); absent ones are not in the map. */
  sizes?(repo: string, digests: string[]): Promise<Map<string, number | undefined>>;
}

/** A registry to push to: the client (with its auth) and how to ask for blob availability. */
export interface PushTarget {
  client: RegistryClient;
  availability: BlobAvailability;
  /** ECR upload semantics for chunked uploads (see upload.ts). */
  ecr?: boolean;
  /** The AWS region of an ECR target when known (--region, the host name, else the SDK's: AWS_REGION, profile): the local record notes it. */
  region?: string;
  /** Parallel uploads when the caller does not say; default 4. */
  concurrency?: number;
  /** Whether the registry refuses to move this tag once set (ECR's tag immutability). */
  immutableTag?(tag: string): boolean;
  /**
   * Which repository to mount each missing blob from (default: the first mountFrom for every blob). A target
   * that answers this only with blobs the source surely holds gets mounting switched off for the rest of the push
   * when the registry answers a mount with a new upload session (ECR without BLOB_MOUNTING).
   */
  mountSources?(missing: string[], from: string[]): Promise<Map<string, string>>;
}
