// Connecting to a registry: the target (client, blob availability, ECR semantics) behind a reference. Its own
// module so that push, the partial-layout fetcher and the build-record reader all reach a registry the same way
// without importing one another.
import pLimit from 'p-limit';
import { RegistryClient } from './client.js';
import { resolveCredentials, type CredentialOptions, type Credentials } from './credentials.js';
import type { EcrOptions } from './ecr.js';
import { isEcrHost } from './ecr-host.js';
import type { ImageReference } from './reference.js';
import type { RetryPolicy } from './retry.js';
import type { BlobAvailability, PushTarget } from './target.js';

/** How to reach a registry: TLS, credentials, retries, timeouts, and the ECR path (see PushImageOptions.ecr). */
export interface TargetOptions {
  insecure?: boolean;
  /** Credentials, or where to look them up (flags, env, docker config). */
  credentials?: Credentials | CredentialOptions;
  retry?: Partial<RetryPolicy>;
  /** Give up on an exchange after this long without a byte either way; default 60 s. */
  idleTimeoutMs?: number;
  /**
   * Amazon ECR: options for the ECR path, taken for ECR host names (`<account>.dkr.ecr.<region>.amazonaws.com`)
   * or any host with `force: true`. `false` treats an ECR host as a plain registry (with the given credentials).
   * Explicit username/password credentials also select the plain path.
   */
  ecr?: EcrOptions | false;
}

/** Availability through HEAD /v2/<repo>/blobs/<digest>, `concurrency` at a time. */
export function headAvailability(client: RegistryClient, concurrency = 8): BlobAvailability {
  return {
    async missing(repo, digests, sizes) {
      const limit = pLimit(concurrency);
      const present = await Promise.all(digests.map((d) => limit(() => client.blobExists(repo, d, 'push', sizes?.get(d)))));
      return new Set(digests.filter((_, i) => !present[i]));
    },
  };
}

function isCredentials(c: Credentials | CredentialOptions | undefined): c is Credentials {
  return c !== undefined && 'source' in c;
}

/**
 * `opts` for reading a repository the build does not push to (a base image, the blobs a partial layout fetches from
 * it, a `--from` record): the ECR repository setup of a push (`--create-repo`, `--immutable-tags`, `--scan-on-push`)
 * is not for it. A base kept in ECR with mutable tags (its `stable` tag moves with each OS patch) failed
 * `build --push … --create-repo --immutable-tags`, and its layers could not be fetched for the push.
 */
export function readOnly(opts: TargetOptions): TargetOptions {
  return opts.ecr ? { ...opts, ecr: { ...opts.ecr, createRepository: false, immutableTags: false, scanOnPush: false } } : opts;
}

/** The registry behind a reference: an ECR target for ECR (see PushImageOptions.ecr), else a plain OCI client. */
export async function pushTargetFor(ref: ImageReference, opts: TargetOptions): Promise<PushTarget> {
  const host = ref.scheme ? `${ref.scheme}://${ref.registry}` : ref.registry;
  if (usesEcr(ref.registry, opts)) {
    // The AWS SDK loads only for ECR: a push elsewhere never pays for it (start-up time).
    const { ecrTarget } = await import('./ecr.js');
    return ecrTarget({ ...(opts.ecr || {}), host, repository: ref.repository, insecure: opts.insecure, retry: opts.retry, idleTimeoutMs: opts.idleTimeoutMs });
  }
  return defaultTarget(host, ref.registry, opts);
}

function usesEcr(registry: string, opts: TargetOptions): boolean {
  if (opts.ecr === false) return false;
  if (opts.ecr?.force) return true;
  const explicit = opts.credentials && !isCredentials(opts.credentials) && (opts.credentials.username || opts.credentials.password);
  return isEcrHost(registry) && !explicit && !isCredentials(opts.credentials);
}

async function defaultTarget(host: string, credentialHost: string, opts: TargetOptions): Promise<PushTarget> {
  const credentials = isCredentials(opts.credentials) ? opts.credentials : await resolveCredentials(credentialHost, opts.credentials ?? {});
  const client = new RegistryClient({ host, insecure: opts.insecure, credentials, retry: opts.retry, idleTimeoutMs: opts.idleTimeoutMs });
  return { client, availability: headAvailability(client) };
}
