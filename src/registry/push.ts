// pushImage: from a local OCI image layout to `host/repo` with tags, sending only what the registry lacks.
// Order is the safety rule: missing layers (in parallel), then configs, then manifests (children before an index),
// then tags — a manifest is never put before every blob it names is in the repository.
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { formatBytes, formatRate, silentReporter, type Reporter } from '../report/reporter.js';
import type { Descriptor } from '../types.js';
import { RegistryClient } from './client.js';
import { resolveCredentials, type CredentialOptions, type Credentials } from './credentials.js';
import { blobSource, readLayoutImage, type LayoutManifest } from './layout.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import type { RetryPolicy } from './retry.js';
import { uploadBlob } from './upload.js';
import { ecrTarget, type EcrOptions } from './ecr.js';
import { isEcrHost } from './ecr-host.js';

/** Which blobs a repository lacks. ECR swaps in BatchCheckLayerAvailability; the rest of the push is the same. */
export interface BlobAvailability {
  missing(repo: string, digests: string[]): Promise<Set<string>>;
}

/** A registry to push to: the client (with its auth) and how to ask for blob availability. */
export interface PushTarget {
  client: RegistryClient;
  availability: BlobAvailability;
  /** ECR upload semantics for chunked uploads (see upload.ts). */
  ecr?: boolean;
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

/** Availability through HEAD /v2/<repo>/blobs/<digest>, `concurrency` at a time. */
export function headAvailability(client: RegistryClient, concurrency = 8): BlobAvailability {
  return {
    async missing(repo, digests) {
      const limit = pLimit(concurrency);
      const present = await Promise.all(digests.map((d) => limit(() => client.blobExists(repo, d))));
      return new Set(digests.filter((_, i) => !present[i]));
    },
  };
}

export interface PushImageOptions {
  /** The local OCI image layout directory (config.store). */
  layout: string;
  /** Destination `host[:port]/repo[:tag]`. */
  to: string;
  /** The image in the layout: a tag (ref.name annotation) or a digest; default the destination's tag. */
  image?: string;
  /** More tags to set on the destination (besides the one in `to`). */
  tags?: string[];
  insecure?: boolean;
  /** Credentials, or where to look them up (flags, env, docker config). */
  credentials?: Credentials | CredentialOptions;
  /** Parallel blob uploads; default 4. */
  concurrency?: number;
  reporter?: Reporter;
  /** Repositories on the same registry to try a cross-repository mount from. */
  mountFrom?: string[];
  /** Blobs of at least this size go up in resumable chunks; default 1 GiB. */
  chunkedAbove?: number;
  chunkSize?: number;
  retry?: Partial<RetryPolicy>;
  /** Give up on an exchange after this long without a byte either way; default 60 s. */
  idleTimeoutMs?: number;
  /** A prepared target; default a plain OCI registry client, or an ECR target for an ECR host (see `ecr`). */
  target?: PushTarget;
  /**
   * Amazon ECR: options for the ECR path, taken for ECR host names (`<account>.dkr.ecr.<region>.amazonaws.com`)
   * or any host with `force: true`. `false` treats an ECR host as a plain registry (with the given credentials).
   * Explicit username/password credentials also select the plain path.
   */
  ecr?: EcrOptions | false;
}

export interface PushResult {
  /** `host/repo` */
  repository: string;
  digest: string;
  mediaType: string;
  /** Size of the top manifest (with digest and mediaType: the image's descriptor, e.g. an artifact's subject). */
  size: number;
  tags: string[];
  /** Every tag already pointed at this digest: nothing was sent. */
  upToDate: boolean;
  blobs: { total: number; skipped: number; mounted: number; uploaded: number };
  /** Bytes streamed to the registry (a retried upload counts twice). */
  bytesSent: number;
  uploaded: string[];
  mounted: string[];
  /** Manifests put (children, then the top one), by digest. */
  manifestsPut: string[];
}

function isCredentials(c: Credentials | CredentialOptions | undefined): c is Credentials {
  return c !== undefined && 'source' in c;
}

export async function pushImage(opts: PushImageOptions): Promise<PushResult> {
  const started = Date.now();
  const reporter = opts.reporter ?? silentReporter;
  const ref = parseReference(opts.to);
  const repo = ref.repository;
  const selector = opts.image ?? ref.digest ?? ref.tag;
  if (!selector) {
    throw new GamelayerError('push.no-image', `push to ${opts.to}: which image? give a tag (${opts.to}:TAG) or the image to push`);
  }
  const tags = [...new Set([...(ref.tag ? [ref.tag] : []), ...(opts.tags ?? [])])];
  for (const t of tags) parseReference(`${ref.registry}/${repo}:${t}`); // validates tag syntax with a clear message
  const image = await readLayoutImage(opts.layout, selector);
  const top = image.descriptor;
  if (ref.digest && ref.digest !== top.digest) {
    throw new GamelayerError('push.digest-mismatch', `push to ${opts.to}: the layout's ${selector} is ${top.digest}, not ${ref.digest}`);
  }

  const target = opts.target ?? (await pushTargetFor(ref, opts));
  const { client } = target;
  const repository = `${client.host}/${repo}`;
  const result: PushResult = {
    repository,
    digest: top.digest,
    mediaType: top.mediaType,
    size: top.size,
    tags,
    upToDate: false,
    blobs: { total: 0, skipped: 0, mounted: 0, uploaded: 0 },
    bytesSent: 0,
    uploaded: [],
    mounted: [],
    manifestsPut: [],
  };
  const images = imageManifests(image);
  const layers = uniqueBlobs(images.flatMap((m) => m.blobs.slice(1)));
  const configs = uniqueBlobs(images.map((m) => m.blobs[0]!)).filter((c) => !layers.some((l) => l.digest === c.digest));
  result.blobs.total = layers.length + configs.length;

  await client.ping();

  // The tag already names this exact digest: everything it needs is there.
  const staleTags: string[] = [];
  for (const t of tags) {
    const current = await client.headManifest(repo, t);
    if (current?.digest === top.digest) continue;
    if (current && target.immutableTag?.(t)) throw immutableTagError(repository, t, current.digest, top.digest);
    if (current) reporter.info(`note: ${repository}:${t} moves from ${current.digest.slice(0, 19)} to ${top.digest.slice(0, 19)}`);
    staleTags.push(t);
  }
  const topExists = tags.length === 0 ? Boolean(await client.headManifest(repo, top.digest)) : staleTags.length === 0;
  if (topExists) {
    reporter.info(`${formatReference({ ...ref, tag: tags[0], digest: undefined })}: up to date (${top.digest})`);
    return { ...result, upToDate: true, blobs: { ...result.blobs, skipped: result.blobs.total } };
  }

  const missing = await target.availability.missing(repo, [...layers, ...configs].map((b) => b.digest));
  result.blobs.skipped = result.blobs.total - missing.size;
  const toSend = (list: Descriptor[]) => list.filter((b) => missing.has(b.digest));
  const limit = pLimit(Math.max(1, opts.concurrency ?? target.concurrency ?? 4));
  const chunkedAbove = opts.chunkedAbove ?? 1024 ** 3;
  const mountFrom = opts.mountFrom ?? [];
  const sources = !mountFrom.length
    ? new Map<string, string>()
    : target.mountSources
      ? await target.mountSources([...missing], mountFrom)
      : new Map([...missing].map((d) => [d, mountFrom[0]!]));
  let mounting = true;
  const send = (b: Descriptor) =>
    limit(async () => {
      const task = reporter.task(`blob ${b.digest.slice(7, 19)} (${tags[0] ?? top.digest.slice(7, 19)})`, b.size, 'bytes');
      const source = mounting ? sources.get(b.digest) : undefined;
      const r = await uploadBlob(client, repo, blobSource(opts.layout, b), {
        mountFrom: source,
        chunked: b.size >= chunkedAbove,
        chunkSize: opts.chunkSize,
        ecr: target.ecr,
        onProgress: (n) => task.tick(n),
      });
      task.done(r.outcome);
      // The source surely held the blob, yet the registry opened an upload: it does not mount. Stop asking.
      if (source && target.mountSources && r.outcome === 'uploaded') mounting = false;
      result.bytesSent += r.bytesSent;
      if (r.outcome === 'mounted') result.mounted.push(b.digest);
      else result.uploaded.push(b.digest);
    });
  await settleAll(toSend(layers).map(send));
  await settleAll(toSend(configs).map(send));
  result.blobs.mounted = result.mounted.length;
  result.blobs.uploaded = result.uploaded.length;

  for (const child of childManifests(image)) {
    if (await client.headManifest(repo, child.descriptor.digest)) continue;
    await client.putManifest(repo, child.descriptor.digest, child.bytes, child.descriptor.mediaType);
    result.manifestsPut.push(child.descriptor.digest);
  }
  const references = staleTags.length ? staleTags : [top.digest];
  for (const reference of references) {
    try {
      await client.putManifest(repo, reference, image.bytes, top.mediaType);
    } catch (e) {
      // A tag moved under us, or immutability the target could not tell beforehand.
      if (e instanceof GamelayerError && /TAG_INVALID|ImageTagAlreadyExists|cannot be overwritten|immutable/i.test(e.message)) {
        const now = await client.headManifest(repo, reference).catch(() => undefined);
        throw immutableTagError(repository, reference, now?.digest, top.digest, e);
      }
      throw e;
    }
  }
  result.manifestsPut.push(top.digest);
  const ms = Date.now() - started;
  reporter.info(
    `${repository}: pushed ${top.digest} as ${tags.join(', ') || 'digest only'} — ` +
      `${result.blobs.uploaded} uploaded, ${result.blobs.mounted} mounted, ${result.blobs.skipped} already there; ` +
      `${formatBytes(result.bytesSent)} sent in ${(ms / 1000).toFixed(1)}s (${formatRate(result.bytesSent, ms)})`,
  );
  return result;
}

export type TargetOptions = Pick<PushImageOptions, 'insecure' | 'credentials' | 'retry' | 'idleTimeoutMs' | 'ecr'>;

/** The registry behind a reference: an ECR target for ECR (see PushImageOptions.ecr), else a plain OCI client. */
export async function pushTargetFor(ref: ImageReference, opts: TargetOptions): Promise<PushTarget> {
  const host = ref.scheme ? `${ref.scheme}://${ref.registry}` : ref.registry;
  if (usesEcr(ref.registry, opts)) {
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

function immutableTagError(repository: string, tag: string, current: string | undefined, wanted: string, cause?: unknown): GamelayerError {
  return new GamelayerError(
    'push.tag-immutable',
    `${repository}:${tag} already names ${current ?? 'another image'} and the repository's tags are immutable: ` +
      `it cannot be moved to ${wanted}`,
    'push under a new tag (tags are meant to name one build), or make the tag mutable in the repository settings',
    cause ? { cause } : undefined,
  );
}

async function defaultTarget(host: string, credentialHost: string, opts: TargetOptions): Promise<PushTarget> {
  const credentials = isCredentials(opts.credentials) ? opts.credentials : await resolveCredentials(credentialHost, opts.credentials ?? {});
  const client = new RegistryClient({ host, insecure: opts.insecure, credentials, retry: opts.retry, idleTimeoutMs: opts.idleTimeoutMs });
  return { client, availability: headAvailability(client) };
}

/** The image manifests under an index (nested indexes included), or the image itself. */
function imageManifests(m: LayoutManifest): LayoutManifest[] {
  return m.blobs.length ? [m] : m.children.flatMap(imageManifests);
}

/** Every manifest below the top one, deepest first: a parent is put only after its children. */
function childManifests(m: LayoutManifest): LayoutManifest[] {
  return m.children.flatMap((c) => [...childManifests(c), c]);
}

function uniqueBlobs(list: Descriptor[]): Descriptor[] {
  const seen = new Map<string, Descriptor>();
  for (const d of list) if (!seen.has(d.digest)) seen.set(d.digest, d);
  return [...seen.values()];
}

/** Waits for every upload (none left running in the background), then throws the first failure. */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
