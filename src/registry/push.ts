// The registry as a sink of the image model (`writeImageToRegistry`), and `pushImage`: an image of the local OCI
// layout (the layout source) to `host/repo` with tags, through that sink. Only what the registry lacks is sent.
// Order is the safety rule: missing layers (in parallel), then configs, then manifests (children before an index),
// then tags — a manifest is never put before every blob it names is in the repository.
import pLimit from 'p-limit';
import { count } from '../report/plural.js';
import { GamelayerError } from '../errors.js';
import { formatBytes, formatRate, silentReporter, type Reporter } from '../report/reporter.js';
import type { Descriptor } from '../types.js';
import { RegistryError, type ManifestInfo } from './client.js';
import type { BlobAvailability, PushTarget } from './target.js';
import { mountPlan, uploadTryingMount } from './mount-sources.js';
import type { CredentialOptions, Credentials } from './credentials.js';
import { readLayoutImage, type LayoutReader } from '../oci/layout.js';
import { childManifests, platformImages, uniqueBlobs, type AnyImage, type ImageBlob } from '../oci/model.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import type { RetryPolicy } from './retry.js';
import { uploadBlob, uploadOptions } from './upload.js';
import type { UploadSessions } from './upload-sessions.js';
import { chunkedAboveDefault } from './chunked-above.js';
import { putManifestSettled } from './manifest-put.js';
import type { EcrOptions } from './ecr.js';
import { headAvailability, pushTargetFor, type TargetOptions } from './connect.js';
import { BLOB_SOURCE_ANNOTATION, blobSourcesOf, fetchMissingBlobs, lazyBlobSource, missingBlobs } from './partial-layout.js';
import { OciStore } from '../oci/store.js';
import { entryGame, GAME_ANNOTATION } from '../oci/store-game.js';
import { settleAllCancelling } from '../util/settle-all.js';
import { abortable, eitherSignal, stopIfAborted } from '../util/abort.js';

export type { BlobAvailability, PushTarget, TargetOptions };
export { headAvailability, pushTargetFor };


export interface PushImageOptions {
  /** The local OCI image layout directory (config.store). */
  layout: string;
  /** Destination `host[:port]/repo[:tag]`. */
  to: string;
  /** The image in the layout: a tag (ref.name annotation) or a digest; default the destination's tag. */
  image?: string;
  /** `layout` as read once for several pushes (`openLayout`: one read of oci-layout and index.json for all). */
  layoutReader?: LayoutReader;
  /** The game pushing: an image the layout tagged for another game is refused (see oci/store-game.ts). */
  game?: string;
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
  /** Blobs of at least this size go up in resumable chunks; default 1 GiB (or GAMELAYER_CHUNKED_UPLOAD_ABOVE). */
  chunkedAbove?: number;
  chunkSize?: number;
  /** Where chunked uploads keep their sessions, so a run killed part-way is continued by the next (`.gamelayer/uploads/`). */
  uploadSessions?: UploadSessions;
  retry?: Partial<RetryPolicy>;
  /** Give up on an exchange after this long without a byte either way; default 60 s. */
  idleTimeoutMs?: number;
  /**
   * Stops the push when it fires: uploads in flight are cut, none queued starts, and no manifest or tag is put after
   * it; the push rejects with `push.aborted`. Blobs already sent stay (the next push does not send them again).
   */
  signal?: AbortSignal;
  /** A prepared target; default a plain OCI registry client, or an ECR target for an ECR host (see `ecr`). */
  target?: PushTarget;
  /**
   * Amazon ECR: options for the ECR path, taken for ECR host names (`<account>.dkr.ecr.<region>.amazonaws.com`)
   * or any host with `force: true`. `false` treats an ECR host as a plain registry (with the given credentials).
   * Explicit username/password credentials also select the plain path.
   */
  ecr?: EcrOptions | false;
  /**
   * Blobs another host may be pushing to the same repository at the same time (the shared media layers of one
   * platform's build, while the other platforms build on their own hosts): this push sends its own stripe of them
   * first, then asks again for the others and sends only those still missing, so hosts that start together split
   * the shared bytes instead of each sending them all.
   */
  stripe?: BlobStripe;
  /**
   * What the destination's tags named a moment ago, when the caller asked already (one HEAD per tag for every
   * image of a build at once): these tags are not asked again. A tag not in the map is asked as usual.
   */
  current?: ReadonlyMap<string, ManifestInfo | undefined>;
  /**
   * Blobs this run sent to the destination already (the blob phase of a push to several repositories): the line
   * reported for the image counts them as uploaded or mounted for it, not as already there. The result's counts
   * stay what this call itself did.
   */
  sentEarlier?: ReadonlyMap<string, 'uploaded' | 'mounted'>;
  /**
   * The blobs of this image the destination lacks, as the caller found out a moment ago (every other blob of the
   * image is there: an image pushed just before holds it): they are not asked again, and the caller announced their
   * bytes to the reporter already (Reporter.pushPlanned).
   */
  knownMissing?: ReadonlySet<string>;
  /**
   * Blobs the destination was found to lack a moment ago although manifests there may name them (a lifecycle policy
   * or a manual delete since they were pushed): an image holding one is pushed through, its blobs checked and the
   * lost ones sent, even when its tags name it already.
   */
  lost?: ReadonlySet<string>;
}

/** This host's part of blobs shared with `of` hosts: the shared blobs, in digest order, whose index mod `of` is `index`. */
export interface BlobStripe {
  shared: ReadonlySet<string>;
  index: number;
  of: number;
  /**
   * How long to wait for the other hosts' stripes to appear before sending what is still missing. Without a wait
   * a host that finished its own stripe sends the others' while their owners are still uploading them (measured:
   * a change day went from 1.0× to 2.0× the bytes), so stripes are only worth it with one.
   */
  waitMs: number;
  /** First interval between checks (default 500 ms; grows ×1.5 up to 5 s). */
  pollMs?: number;
}

/** The blobs to send first (this host's stripe and every blob no other host sends) and those to ask about again. */
export function splitByStripe<T extends { digest: string }>(blobs: T[], stripe: BlobStripe | undefined): [T[], T[]] {
  if (!stripe || stripe.of < 2) return [blobs, []];
  const place = new Map([...stripe.shared].sort().map((d, i) => [d, i] as const));
  const mine = (d: string) => place.get(d)! % stripe.of === stripe.index;
  return [blobs.filter((b) => !stripe.shared.has(b.digest) || mine(b.digest)), blobs.filter((b) => stripe.shared.has(b.digest) && !mine(b.digest))];
}

/** The blobs of `later` still missing once they all appeared or `stripe.waitMs` passed, checking with `missing`. */
export async function awaitOthers<T extends { digest: string }>(later: T[], stripe: BlobStripe, missing: (digests: string[]) => Promise<Set<string>>, reporter: Reporter): Promise<T[]> {
  const deadline = Date.now() + stripe.waitMs;
  let interval = stripe.pollMs ?? 500;
  let left = later;
  let told = false;
  for (;;) {
    const still = await missing(left.map((b) => b.digest));
    left = left.filter((b) => still.has(b.digest));
    if (left.length === 0 || Date.now() >= deadline) return left;
    if (!told) {
      reporter.info(`waiting up to ${Math.round(stripe.waitMs / 1000)} s for ${left.length} shared blobs the other platforms' builds send`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
    interval = Math.min(interval * 1.5, 5000);
  }
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
  /**
   * With `sentEarlier`: the blobs of this image that run sent in its shared blob phase. `blobs.skipped` counts them
   * (the registry had them when this image was pushed); they were not there before the run.
   */
  sentEarlier?: number;
  /** Bytes streamed to the registry (a retried upload counts twice). */
  bytesSent: number;
  uploaded: string[];
  mounted: string[];
  /** Manifests put (children, then the top one), by digest. */
  manifestsPut: string[];
}


export async function pushImage(opts: PushImageOptions): Promise<PushResult> {
  const started = Date.now();
  const ref = parseReference(opts.to);
  const selector = opts.image ?? ref.digest ?? ref.tag;
  if (!selector) {
    throw new GamelayerError('push.no-image', `push to ${opts.to}: which image? give a tag (${opts.to}:TAG) or the image to push`);
  }
  pushTags(ref, opts.tags);
  // A partial layout (layers kept in the registry by the build) is read as it is: what the target lacks and the
  // layout lacks too is fetched from the image's blob source by the sink, before anything is sent.
  const reader = opts.layoutReader?.dir === opts.layout ? opts.layoutReader : undefined;
  const image = await (reader ? reader.image(selector, { allowMissing: true }) : readLayoutImage(opts.layout, selector, { allowMissing: true }));
  if (opts.game !== undefined) await assertImageOfGame(opts.layout, image.descriptor, selector, opts.game);
  const { layout, image: _selector, game: _game, layoutReader: _reader, ...rest } = opts;
  return writeImageToRegistry(image, { ...rest, name: selector, partialLayout: layout, started });
}

/** The tags a push sets: the destination's, then the extra ones, each checked for syntax. */
function pushTags(ref: ImageReference, extra: string[] = []): string[] {
  const tags = [...new Set([...(ref.tag ? [ref.tag] : []), ...extra])];
  for (const t of tags) parseReference(`${ref.registry}/${ref.repository}:${t}`); // validates tag syntax with a clear message
  return tags;
}

export interface WriteToRegistryOptions extends Omit<PushImageOptions, 'layout' | 'image' | 'game'> {
  /** How the image is named in messages: its tag or digest where it came from (default its digest). */
  name?: string;
  /** The local layout a partial image was read from: the blobs it lacks are fetched into it from its blob sources. */
  partialLayout?: string;
  /** When the push began (for the rate reported). */
  started?: number;
}

/**
 * The registry as a sink: `image` (from any source) to `to` with tags. Missing layers first (in parallel), then
 * configs, then manifests (children before an index), then tags; blobs the registry has are not sent.
 */
export function writeImageToRegistry(image: AnyImage, opts: WriteToRegistryOptions): Promise<PushResult> {
  return abortable(opts.signal, 'push', opts.to, () => writeImage(image, opts));
}

async function writeImage(image: AnyImage, opts: WriteToRegistryOptions): Promise<PushResult> {
  const started = opts.started ?? Date.now();
  const reporter = opts.reporter ?? silentReporter;
  const ref = parseReference(opts.to);
  const repo = ref.repository;
  const tags = pushTags(ref, opts.tags);
  const top = image.descriptor;
  const selector = opts.name ?? top.digest;
  const absentHere = new Set(missingBlobs(image).map((b) => b.digest));
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
  const images = platformImages(image);
  const layers: ImageBlob[] = uniqueBlobs(images.flatMap((m) => m.layers));
  const configs = uniqueBlobs(images.map((m) => m.config)).filter((c) => !layers.some((l) => l.digest === c.digest));
  result.blobs.total = layers.length + configs.length;

  await client.ping();

  // The tag already names this exact digest: everything it needs is there.
  const staleTags: string[] = [];
  for (const t of tags) {
    const current = opts.current?.has(t) ? opts.current.get(t) : await client.headManifest(repo, t, 'push');
    if (current?.digest === top.digest) continue;
    if (current && target.immutableTag?.(t)) throw immutableTagError(repository, t, current.digest, top.digest);
    if (current) reporter.info(`note: ${repository}:${t} moves from ${current.digest.slice(0, 19)} to ${top.digest.slice(0, 19)}`);
    staleTags.push(t);
  }
  // An image the registry holds, but not all of whose blobs (lost since): not up to date, whatever its tags name.
  const holdsLost = opts.lost?.size ? [...layers, ...configs].some((b) => opts.lost!.has(b.digest)) : false;
  const topExists = holdsLost ? false : tags.length === 0 ? Boolean(await client.headManifest(repo, top.digest, 'push')) : staleTags.length === 0;
  if (topExists) {
    reporter.info(`${formatReference({ ...ref, tag: tags[0], digest: undefined })}: up to date (${top.digest})`);
    return { ...result, upToDate: true, blobs: { ...result.blobs, skipped: result.blobs.total } };
  }

  const all = [...layers, ...configs];
  const known = opts.knownMissing;
  const missing = known
    ? new Set(all.map((b) => b.digest).filter((d) => known.has(d)))
    : await target.availability.missing(repo, all.map((b) => b.digest), new Map(all.map((b) => [b.digest, b.size])));
  result.blobs.skipped = result.blobs.total - missing.size;
  const toSend = (list: ImageBlob[]) => list.filter((b) => missing.has(b.digest));
  const limit = pLimit(Math.max(1, opts.concurrency ?? target.concurrency ?? 4));
  const chunkedAbove = opts.chunkedAbove ?? chunkedAboveDefault();
  // A partial layout's blob sources on this registry are asked which of its missing blobs they still hold: those are
  // mounted; the others are fetched (verified) or named as gone, as before.
  const kept = keptSources(image, ref, client.host);
  const { sources, sure } = await mountPlan(target, repo, [...missing], [...new Set([...(opts.mountFrom ?? []), ...kept])], kept.length > 0 && absentHere.size > 0);
  // Blobs a partial layout lacks and the target lacks too: mounted when a mount source is known (a base image on the
  // same registry), fetched from the layout's blob sources otherwise (or when the registry does not mount).
  const fetch = [...layers, ...configs].filter((b) => missing.has(b.digest) && absentHere.has(b.digest) && !sources.has(b.digest));
  const layout = opts.partialLayout;
  if (fetch.length) {
    const from = blobSourcesOf(image).filter((s) => !sameRepository(s, ref, client.host));
    if (!from.length || !layout) {
      const b = fetch[0]!;
      throw new GamelayerError(
        'push.blob-missing',
        `push ${selector} to ${repository}: blob ${b.digest} (${b.size} bytes)${fetch.length > 1 ? ` and ${fetch.length - 1} more` : ''} is neither in ${layout ?? 'the image\'s source'} nor in ${repository}`,
        blobSourcesOf(image).length
          ? `the build kept it in ${blobSourcesOf(image).join(' and ')} without downloading it, and it is gone from there since: build again (the build rebuilds layers the registry lost)`
          : 'the store is incomplete: build the image again',
      );
    }
    const fetched = await fetchMissingBlobs(layout, { ...image, descriptor: { ...image.descriptor, annotations: { [BLOB_SOURCE_ANNOTATION]: from.join(' ') } } }, selector, { ...opts, only: fetch });
    // Another image (or target) of this run that fetched them first reported them: said once.
    if (fetched.blobs) reporter.info(`fetched ${count(fetched.blobs, 'blob')} (${formatBytes(fetched.bytes)}) this layout lacked from ${from.join(' or ')}`);
  }
  const lazyFetch = new Map<string, Promise<unknown>>();
  const sourceOf = (b: ImageBlob): ImageBlob =>
    absentHere.has(b.digest) && layout
      ? lazyBlobSource(layout, b, () => {
          let p = lazyFetch.get(b.digest);
          if (!p) lazyFetch.set(b.digest, (p = fetchMissingBlobs(layout, image, selector, { ...opts, only: [b] })));
          return p;
        })
      : b;
  let mounting = true;
  // In a push to several repositories (sentEarlier) each one's lines name it, as its blob phase's do: a tag alone
  // left two "blob … (v1): mounted" lines that did not say which registry each was.
  const blobTaskLabel = (b: ImageBlob) => `blob ${b.digest.slice(7, 19)} (${opts.sentEarlier ? `${client.host}/${repo}` : (tags[0] ?? top.digest.slice(7, 19))})`;
  // A blob's upload, cancelled (settleAllCancelling) once another of its step failed: not started if still queued.
  const send = (b: ImageBlob, stepSignal: AbortSignal) =>
    limit(async () => {
      const signal = eitherSignal(stepSignal, opts.signal);
      signal.throwIfAborted();
      const task = reporter.task(blobTaskLabel(b), b.size, 'bytes', { progressLines: true });
      const r = await uploadTryingMount(target, mounting ? sources.get(b.digest) : undefined, sure, (mountFrom, onMountAnswer) =>
        uploadBlob(client.cancellable(signal), repo, sourceOf(b), { mountFrom, onMountAnswer, ...uploadOptions(target, b.size >= chunkedAbove, task, reporter, opts) }),
      );
      task.done(r.outcome);
      result.bytesSent += r.bytesSent;
      if (r.outcome === 'mounted') result.mounted.push(b.digest);
      else result.uploaded.push(b.digest);
    });
  const [first, later] = splitByStripe(toSend(layers), opts.stripe);
  // The progress bar's total is known before the first upload starts, the other hosts' stripes included (this host
  // may have to send them): it never grows under a running bar.
  if (!known) reporter.pushPlanned?.(sumSizes([...first, ...later, ...toSend(configs)]));
  await settleAllCancelling(first, send);
  if (later.length) {
    // The other hosts' stripes: wait (bounded) for their owners to finish them; send only what is still missing.
    const left = await awaitOthers(later, opts.stripe!, (digests) => target.availability.missing(repo, digests), reporter);
    result.blobs.skipped += later.length - left.length;
    if (left.length < later.length) reporter.info(`${later.length - left.length} shared blobs were pushed by another platform's build: not sent`);
    // Their announced bytes are there: done on the bar, as a blob already there is.
    for (const b of later) if (!left.includes(b)) reporter.task(blobTaskLabel(b), b.size, 'bytes').done("sent by another platform's build");
    if (left.length) reporter.warn(`${left.length} shared blobs did not appear within ${Math.round(opts.stripe!.waitMs / 1000)} s: sending them from this host`);
    await settleAllCancelling(left, send);
  }
  await settleAllCancelling(toSend(configs), send);
  // Another host pushing the same content at the same moment can make the registry refuse a manifest whose blobs
  // are there (manifest-put.ts): what it names is checked, what is really missing is sent again, and it is put again.
  const children = childManifests(image);
  // Nothing is put once the caller stopped the push: no manifest names blobs it may have cut.
  stopIfAborted(opts.signal, 'push', repository);
  const resend = async (lost: { blobs: string[]; manifests: string[] }) => {
    const blobs = all.filter((b) => lost.blobs.includes(b.digest));
    reporter.pushPlanned?.(sumSizes(blobs));
    mounting = false;
    await settleAllCancelling(blobs, send);
    for (const child of children.filter((c) => lost.manifests.includes(c.descriptor.digest))) {
      await putManifestSettled(client, repo, child.descriptor.digest, child.bytes, child.descriptor.mediaType, { resend, reporter });
    }
  };
  for (const child of children) {
    if (await client.headManifest(repo, child.descriptor.digest, 'push')) continue;
    await putManifestSettled(client, repo, child.descriptor.digest, child.bytes, child.descriptor.mediaType, { resend, reporter });
    result.manifestsPut.push(child.descriptor.digest);
  }
  const references = staleTags.length ? staleTags : [top.digest];
  for (const reference of references) {
    stopIfAborted(opts.signal, 'push', repository);
    try {
      await putManifestSettled(client, repo, reference, image.bytes, top.mediaType, { resend, reporter });
    } catch (e) {
      // A tag moved under us, or immutability the target could not tell beforehand.
      if (e instanceof RegistryError && isImmutableTagRefusal(e)) {
        const now = await client.headManifest(repo, reference, 'push').catch(() => undefined);
        throw immutableTagError(repository, reference, now?.digest, top.digest, e);
      }
      throw e;
    }
  }
  result.manifestsPut.push(top.digest);
  // Counted once the manifests are in: a blob sent again for a refused manifest is an upload of this push too.
  result.blobs.mounted = result.mounted.length;
  result.blobs.uploaded = result.uploaded.length;
  const ms = Date.now() - started;
  // Blobs of this image that this run sent a moment earlier are this image's uploads, not "already there".
  const earlier = (kind: 'uploaded' | 'mounted') => all.filter((b) => !missing.has(b.digest) && opts.sentEarlier?.get(b.digest) === kind).length;
  const sentBefore = earlier('uploaded') + earlier('mounted');
  if (opts.sentEarlier) result.sentEarlier = sentBefore;
  // Their bytes were counted in that phase: this line's bytes are this call's own, and it says so.
  const shared = sentBefore ? `${count(sentBefore, 'blob')} sent in the shared blob phase; here ` : '';
  reporter.info(
    `${repository}: pushed ${top.digest} as ${tags.join(', ') || 'digest only'} — ${shared}` +
      `${result.blobs.uploaded} uploaded, ${result.blobs.mounted} mounted, ${result.blobs.skipped - sentBefore} already there; ` +
      `${formatBytes(result.bytesSent)} sent in ${(ms / 1000).toFixed(1)}s (${formatRate(result.bytesSent, ms)})`,
  );
  return result;
}

/**
 * The registry refused to move a tag: ECR's ImageTagAlreadyExists, or TAG_INVALID whose own message says the
 * tag is immutable (TAG_INVALID alone also means a malformed tag).
 */
function isImmutableTagRefusal(e: RegistryError): boolean {
  if (e.registryCode === 'ImageTagAlreadyExists' || e.registryCode === 'ImageTagAlreadyExistsException') return true;
  return e.registryCode === 'TAG_INVALID' && /cannot be overwritten|immutable/i.test(e.registryMessage ?? '');
}



/**
 * The repositories of this registry a partial image names as its blob sources, but `ref`'s (a build kept layers there:
 * `build --from` another repository): a later `push` of such a build downloaded those layers and uploaded them again,
 * where `build --push` mounted them.
 */
function keptSources(image: AnyImage, ref: ImageReference, host: string): string[] {
  return blobSourcesOf(image)
    .map((s) => parseReference(s))
    .filter((s) => (s.registry === ref.registry || s.registry === host) && s.repository !== ref.repository)
    .map((s) => s.repository);
}

/** Whether `source` (`[scheme://]host/repo`) is the repository `ref` on `host`. */
function sameRepository(source: string, ref: ImageReference, host: string): boolean {
  const s = parseReference(source);
  return s.repository === ref.repository && (s.registry === ref.registry || s.registry === host);
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


/** A shared store (or one made before tags named their game) may hold another game's image under this tag. */
async function assertImageOfGame(layout: string, top: Descriptor, selector: string, game: string): Promise<void> {
  // The entry's annotation answers without the store (opened only to read an older entry's image labels).
  const owner = top.annotations?.[GAME_ANNOTATION] ?? (await entryGame(await OciStore.open(layout, { create: false }), top));
  if (owner !== undefined && owner !== game) {
    throw new GamelayerError(
      'push.other-game',
      `${layout}: the image ${selector} belongs to the game "${owner}", not "${game}"`,
      'another game built into this store; give each game its own store ("store:" in gamelayer.yaml) and build again',
    );
  }
}

function sumSizes(blobs: readonly { size: number }[]): number {
  return blobs.reduce((n, b) => n + b.size, 0);
}
