// Blob uploads (OCI distribution-spec "pushing blobs"): optional cross-repository mount, then either one streamed
// PATCH of the whole blob or a chunked, resumable series of PATCHes, then PUT ?digest=. Every step follows the
// newest Location. Transient failures resume (chunked: from the registry's Range, or — for ECR — from our own
// offset) or restart the upload on a new session; the blob is streamed from disk, never held in memory. A chunked
// upload keeps its session in the state folder (upload-sessions.ts) after every acknowledged chunk, so the next run
// continues it after a killed process; the final PUT ?digest= has the registry check the whole blob, and a kept
// session it will not continue or finish is dropped for a fresh upload, never an error.
import { GamelayerError } from '../errors.js';
import type { ImageBlob } from '../oci/model.js';
import { pullScope, pushScope } from './scopes.js';
import { RegistryError, TransientRegistryError, type RegistryClient } from './client.js';
import { formatBytes } from '../report/reporter.js';
import { backoffDelay, sleep } from './retry.js';
import { identityOf, type UploadKey, type UploadSessions } from './upload-sessions.js';

/** Amazon ECR's upload part size: its parts must be at least 5 MiB; offsets are ours, its Range is not trusted. */
export const ECR_CHUNK_SIZE = 5_248_080;

/** A blob to send: a model blob, whose media type an upload does not need (a record or signature names none). */
export type BlobSource = Omit<ImageBlob, 'mediaType'>;

export interface UploadOptions {
  /** Try a cross-repository mount from this repository (same registry) before uploading. */
  mountFrom?: string;
  /** Upload in chunks of `chunkSize` bytes, resuming after failures. */
  chunked?: boolean;
  chunkSize?: number;
  /** ECR semantics for chunked uploads: fixed 5,248,080-byte parts, offsets tracked by us. */
  ecr?: boolean;
  /** Progress in bytes sent; negative when bytes sent must be sent again. A mounted blob reports none. */
  onProgress?: (delta: number) => void;
  /** Chunked uploads: where sessions are kept across runs (`.gamelayer/uploads/`); none: nothing kept. */
  sessions?: UploadSessions;
  /** What became of a kept session (continued, or dropped for a fresh upload: `warn`). */
  onNote?: (message: string, warn: boolean) => void;
  /**
   * Called as soon as the mount is answered (before any byte is sent; the first call is the answer): `mounted`,
   * `refused` (an upload session: the registry does not mount), or undefined (no mount asked, or an error: unknown).
   */
  onMountAnswer?: (outcome: 'mounted' | 'refused' | undefined) => void;
}

/** A push's options for one blob's upload to `target`: progress on `task`, notes through `reporter`. */
export function uploadOptions(
  target: { ecr?: boolean },
  chunked: boolean,
  task: { tick(delta: number): void },
  reporter: { info(message: string): void; warn(message: string): void },
  opts: { chunkSize?: number; uploadSessions?: UploadSessions },
): UploadOptions {
  return {
    chunked,
    chunkSize: opts.chunkSize,
    ecr: target.ecr,
    onProgress: (n) => task.tick(n),
    sessions: opts.uploadSessions,
    onNote: (m, warn) => (warn ? reporter.warn(m) : reporter.info(m)),
  };
}

export interface UploadResult {
  outcome: 'mounted' | 'uploaded';
  /** Bytes streamed to the registry, repeats included. */
  bytesSent: number;
  /** Failed attempts that were recovered. */
  recoveries: number;
}

/** Appends `digest=` to an upload URL, keeping its query byte for byte (Docker's `_state`, ECR's parameters). */
export function withDigest(url: URL, digest: string): URL {
  const out = new URL(url);
  const param = `digest=${encodeURIComponent(digest)}`;
  out.search = url.search && url.search !== '?' ? `${url.search}&${param}` : `?${param}`;
  return out;
}

/** `Range: 0-N` (N inclusive) → bytes the registry holds. `0-0` is read as nothing held yet (Docker's quirk). */
export function parseUploadRange(value: string | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec((value ?? '').trim());
  if (!m) return undefined;
  const last = Number(m[1]);
  return last === 0 ? 0 : last + 1;
}

export async function uploadBlob(client: RegistryClient, repo: string, blob: BlobSource, opts: UploadOptions = {}): Promise<UploadResult> {
  const mountAnswer = opts.onMountAnswer ?? (() => {});
  const chunkSize = opts.ecr ? ECR_CHUNK_SIZE : (opts.chunkSize ?? 64 * 1024 * 1024);
  const chunked = opts.chunked ?? false;
  let bytesSent = 0;
  let reported = 0;
  const progress = (n: number) => {
    bytesSent += n;
    reported += n;
    opts.onProgress?.(n);
  };
  /** Brings the progress shown back (or forward) to what the registry holds. */
  const settleProgress = (held: number) => {
    if (held !== reported) opts.onProgress?.(held - reported);
    reported = held;
  };
  const what = `upload blob ${blob.digest} (${blob.origin}) to ${repo}`;
  // Notes about a kept session name the blob short: its file path, twice over, made a routine restart read as alarming.
  const label = `blob ${blob.digest.slice(7, 19)} (${formatBytes(blob.size)}) to ${client.host}/${repo}`;
  let session: URL | undefined;
  let offset = 0;
  let mountFrom = opts.mountFrom;
  let failures = 0;
  let phase: 'start' | 'data' | 'finish' = 'start';
  const note = opts.onNote ?? (() => {});
  const keep: Kept | undefined =
    chunked && opts.sessions
      ? { store: opts.sessions, key: { registry: client.host, repository: repo, digest: blob.digest, size: blob.size, identity: identityOf(client.auth.principal) } }
      : undefined;
  /** On a session kept from an earlier run: a refusal from the registry means a fresh upload, not an error. */
  let resumed = false;
  if (keep) {
    const kept = await resumeKept(client, repo, blob, keep, opts.ecr === true, { what, label }, note);
    if (kept) {
      session = kept.location;
      offset = kept.held;
      resumed = true;
      mountFrom = undefined;
      mountAnswer(undefined);
      settleProgress(offset);
    }
  }
  /** Cancels `broken` and forgets it (kept copy too): the blob goes up whole on a new session. */
  const restartFresh = async (broken: URL): Promise<void> => {
    abandon(client, repo, broken);
    await keep?.store.drop(keep.key);
    resumed = false;
    session = undefined;
    settleProgress(0);
  };
  for (;;) {
    try {
      if (!session) {
        phase = 'start';
        const from = mountFrom;
        const started = await startUpload(client, repo, blob.digest, mountFrom, what);
        mountFrom = undefined; // mount once; after that, upload
        // Told before the blob goes up: the run's other mounts wait for this answer (mount-trial.ts), not for the blob.
        mountAnswer(started === 'mounted' ? 'mounted' : from !== undefined && from !== repo ? 'refused' : undefined);
        if (started === 'mounted') {
          await checkMounted(client, repo, blob, from!, what);
          // No progress: nothing was sent (the task's done() counts a mounted blob's bytes as done, without a rate).
          settleProgress(0);
          return { outcome: 'mounted', bytesSent: 0, recoveries: failures };
        }
        session = started;
        offset = 0;
        settleProgress(0);
        if (keep) await keep.store.save(keep.key, session, 0);
      }
      phase = 'data';
      if (!chunked) {
        if (blob.size > 0) session = (await patchChunk(client, repo, session, blob, 0, blob.size - 1, progress, what, false)).location;
        offset = blob.size;
      } else {
        while (offset < blob.size) {
          const end = Math.min(offset + chunkSize, blob.size) - 1;
          const res = await patchChunk(client, repo, session, blob, offset, end, progress, what);
          session = res.location;
          // ECR: our offsets. Others: the registry says what it holds; fall back to ours when it says nothing.
          offset = opts.ecr ? end + 1 : (res.held && res.held > offset ? res.held : end + 1);
          settleProgress(offset);
          if (keep) await keep.store.save(keep.key, session, offset);
        }
      }
      phase = 'finish';
      await finish(client, repo, session, blob, what, resumed);
      await keep?.store.drop(keep.key);
      settleProgress(blob.size);
      return { outcome: 'uploaded', bytesSent, recoveries: failures };
    } catch (e) {
      // A local blob that failed its check while streaming: never retried, never blamed on the network.
      const damaged = blob.damage?.();
      if (damaged) {
        if (session) abandon(client, repo, session);
        await keep?.store.drop(keep.key);
        throw damaged;
      }
      // A kept session the registry will not continue (gone, another offset) or whose bytes it will not take as the
      // blob (the final PUT's digest check): dropped, and the blob goes up whole on a new session.
      if (resumed && session && isResumeRefusal(e)) {
        note(`${label}: ${client.host} refused to go on with the upload kept from an earlier run (${(e as Error).message}): sending it again from the start`, true);
        await restartFresh(session);
        continue;
      }
      // A mount the registry refused outright (a source repository these credentials may not read, or one it does
      // not have, tried for a base kept in each region): the blob is uploaded instead.
      // An error says nothing of whether the registry mounts (the next mount asks again): a refusal is an upload session.
      if (phase === 'start' && mountFrom !== undefined && !(e instanceof TransientRegistryError)) {
        mountFrom = undefined;
        mountAnswer(undefined);
        continue;
      }
      if (!(e instanceof TransientRegistryError)) throw e;
      failures++;
      if (failures >= client.retry.attempts) {
        throw new GamelayerError('registry.upload', `${what}: gave up after ${failures} failed attempts (last: ${e.message})`, e.hint, { cause: e });
      }
      await sleep(backoffDelay(client.retry, failures, e.retryAfterMs));
      if (phase === 'finish' && (await client.blobExists(repo, blob.digest, 'push'))) {
        // The PUT landed but its answer was lost.
        await keep?.store.drop(keep.key);
        settleProgress(blob.size);
        return { outcome: 'uploaded', bytesSent, recoveries: failures };
      }
      if (phase === 'start' || !session) continue;
      if (chunked && opts.ecr) {
        settleProgress(offset); // same session, same offset: send the part again
        continue;
      }
      if (chunked) {
        const status = await uploadStatus(client, repo, session, what);
        if (status) {
          session = status.location;
          offset = status.held;
          settleProgress(offset);
          continue;
        }
      }
      // Whole-blob PATCH broken part-way, or a session the registry no longer resumes: start over.
      await restartFresh(session);
    }
  }
}

/**
 * A mounted blob is the registry's copy, never read here: its size must be the one the image names (a base image's
 * manifest in the registry is what names it, and a registry stores a manifest whatever sizes it says), else the
 * image put next names its layer with a size no client can pull.
 */
async function checkMounted(client: RegistryClient, repo: string, blob: BlobSource, from: string, what: string): Promise<void> {
  const res = await client.request({ method: 'HEAD', target: `/v2/${repo}/blobs/${blob.digest}`, scopes: [pushScope(repo)], ok: [200, 404], what });
  await res.discard();
  const length = res.header('content-length');
  const held = res.status === 200 && length !== undefined && length.trim() !== '0' ? Number(length) : undefined;
  if (res.status === 200 && (held === undefined || held === blob.size)) return;
  throw new GamelayerError(
    'push.mount-mismatch',
    res.status !== 200
      ? `${what}: ${client.host} answered the mount from ${from} as done, but does not hold the blob`
      : `${what}: the blob mounted from ${from} has ${held} bytes, the image names it with ${blob.size} (${blob.origin}); no manifest naming it was put`,
    res.status !== 200 ? 'push again; if it persists, check the registry' : `the manifest that names ${blob.digest} with ${blob.size} bytes is wrong: fix or rebuild that image (a base image: push it again), then build again`,
  );
}

async function startUpload(client: RegistryClient, repo: string, digest: string, mountFrom: string | undefined, what: string): Promise<URL | 'mounted'> {
  const query = mountFrom && mountFrom !== repo ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
  const scopes = query ? [pushScope(repo), pullScope(mountFrom!)] : [pushScope(repo)];
  const target = `/v2/${repo}/blobs/uploads/${query}`;
  const res = await client.request({ method: 'POST', target, headers: { 'content-length': '0' }, scopes, ok: [201, 202], retry: false, what });
  await res.discard();
  // 201: mounted. 202: not mounted (or no mount asked): upload on the session it opened.
  if (res.status === 201 && query) return 'mounted';
  return sessionUrl(client, res.header('location'), new URL(target, client.base), what);
}

function sessionUrl(client: RegistryClient, location: string | undefined, against: URL, what: string): URL {
  if (!location) throw new GamelayerError('registry.protocol', `${what}: ${client.host} answered without a Location for the upload`);
  return client.resolve(location, against);
}

async function patchChunk(
  client: RegistryClient,
  repo: string,
  session: URL,
  blob: BlobSource,
  start: number,
  end: number,
  progress: (n: number) => void,
  what: string,
  withRange = true,
): Promise<{ location: URL; held?: number }> {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'content-length': String(end - start + 1),
  };
  if (withRange) headers['content-range'] = `${start}-${end}`;
  const res = await client.request({
    method: 'PATCH',
    target: session,
    headers,
    body: () => blob.open(start, end),
    onBodyProgress: progress,
    scopes: [pushScope(repo)],
    ok: [202, 204],
    retry: false,
    what,
  });
  await res.discard();
  return { location: sessionUrl(client, res.header('location') ?? session.href, session, what), held: parseUploadRange(res.header('range')) };
}

/** The registry's error codes for "that layer is there already" (ECR's, in its two spellings, and distribution-style). */
const LAYER_EXISTS = new Set(['LayerAlreadyExists', 'LayerAlreadyExistsException', 'LAYER_ALREADY_EXISTS']);
/** The registry's error codes for "those bytes do not hash to that digest". */
const DIGEST_REFUSED = new Set(['DIGEST_INVALID', 'BAD_DIGEST', 'InvalidLayerException', 'InvalidLayer']);

async function finish(client: RegistryClient, repo: string, session: URL, blob: BlobSource, what: string, resumed = false): Promise<void> {
  const digest = blob.digest;
  let res;
  try {
    res = await client.request({
      method: 'PUT',
      target: withDigest(session, digest),
      headers: { 'content-length': '0' },
      scopes: [pushScope(repo)],
      ok: [201, 204],
      retry: false,
      what,
    });
  } catch (e) {
    // ECR refuses to complete an upload of a layer another push completed meanwhile (LayerAlreadyExists):
    // the repository has the blob, which is all this upload was for.
    if (e instanceof RegistryError && LAYER_EXISTS.has(e.registryCode ?? '') && (await client.blobExists(repo, digest, 'push'))) return;
    // A session kept from an earlier run may hold bytes that are not this blob's prefix: the caller starts over.
    if (resumed && e instanceof RegistryError && DIGEST_REFUSED.has(e.registryCode ?? '')) throw e;
    if (e instanceof RegistryError && DIGEST_REFUSED.has(e.registryCode ?? '')) throw await digestDispute(client, blob, what, `refused the upload as not matching its digest (${e.registryCode}: ${e.registryMessage ?? e.message})`);
    throw e;
  }
  await res.discard();
  const stored = res.header('docker-content-digest');
  if (stored && stored !== digest) throw await digestDispute(client, blob, what, `answered that it stored ${stored}`);
}

/**
 * The registry and we disagree about the bytes sent. The local file is hashed again to name the party that is
 * wrong: our store (a damaged blob: rebuild) or the registry / something between (the file is right).
 */
async function digestDispute(client: RegistryClient, blob: BlobSource, what: string, said: string): Promise<GamelayerError> {
  const local = await blob.actualDigest?.().catch(() => undefined);
  if (local !== undefined && local !== blob.digest) {
    return new GamelayerError(
      'store.blob-corrupt',
      `${what}: ${client.host} ${said}; the local file ${blob.origin} hashes to ${local}, not ${blob.digest}: the local store is damaged`,
      'run gamelayer build again (it checks the store and rebuilds a damaged layer), then push',
    );
  }
  if (local === undefined) {
    return new GamelayerError('registry.digest', `${what}: ${client.host} ${said}; the local copy (${blob.origin}) could not be read again to tell who is wrong`);
  }
  return new GamelayerError(
    'registry.digest',
    `${what}: ${client.host} ${said}, but the local file ${blob.origin} does hash to ${blob.digest}: the registry (or a proxy between) changed or mixed up the bytes`,
    'the local store is fine; check the registry and any proxy or cache in front of it, then push again',
  );
}

/** GET on the session: what the registry holds (Range) and where to continue, or undefined if it cannot resume. */
async function uploadStatus(client: RegistryClient, repo: string, session: URL, what: string): Promise<{ location: URL; held: number } | undefined> {
  try {
    const res = await client.request({ method: 'GET', target: session, scopes: [pushScope(repo)], ok: [204, 200, 400, 404, 416], what });
    await res.discard();
    if (res.status !== 204 && res.status !== 200) return undefined;
    const held = parseUploadRange(res.header('range'));
    if (held === undefined) return undefined;
    return { location: sessionUrl(client, res.header('location') ?? session.href, session, what), held };
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'registry.unauthorized') throw e;
    return undefined;
  }
}

/** Best effort: tell the registry a broken session is dead (it would expire anyway). */
function abandon(client: RegistryClient, repo: string, session: URL): void {
  client
    .request({ method: 'DELETE', target: session, scopes: [pushScope(repo)], ok: [204, 200, 202, 404, 400], retry: false, what: 'cancel upload' })
    .then((r) => r.discard())
    .catch(() => {});
}

/** A session kept from an earlier run, and where it is kept. */
interface Kept {
  store: UploadSessions;
  key: UploadKey;
}

/** A registry's refusal of a kept session (not of our credentials: those are the user's to fix). */
function isResumeRefusal(e: unknown): boolean {
  return e instanceof RegistryError && !(e instanceof TransientRegistryError) && e.status !== 401 && e.status !== 403;
}

/**
 * The session kept for this blob, if the registry still has it: where to continue and from which byte. Plain
 * registries are asked (GET: `Range: 0-<last>`); ECR's Range is not trusted, so its offset is the one we kept (the
 * end of its last acknowledged part: ECR keeps whole parts only). Anything that does not fit is dropped, with a word.
 */
async function resumeKept(
  client: RegistryClient,
  repo: string,
  blob: BlobSource,
  keep: Kept,
  ecr: boolean,
  names: { what: string; label: string },
  note: (message: string, warn: boolean) => void,
): Promise<{ location: URL; held: number } | undefined> {
  const { what, label } = names;
  const found = await keep.store.find(keep.key);
  if ('none' in found) {
    if (found.none === 'damaged') note(`${label}: the upload kept in ${keep.store.dir} from an earlier run was unreadable: dropped, sending it again from the start`, true);
    return undefined;
  }
  const saved = found.saved;
  // The kept upload goes, said once per blob (a warning, or a note where nothing is wrong).
  const drop = async (message: string, warn: boolean, session?: URL) => {
    if (session) abandon(client, repo, session);
    await keep.store.drop(keep.key);
    if (keep.store.firstNote(keep.key)) note(message, warn);
    return undefined;
  };
  const dropped = (why: string, session?: URL) => drop(`${label}: the upload kept from an earlier run ${why}: sending it again from the start`, true, session);
  let url: URL;
  try {
    url = client.resolve(saved.url, client.base);
  } catch {
    return dropped('has an upload URL this registry connection may not use');
  }
  // Our credentials go to the registry's own origin only: a kept URL elsewhere is not followed.
  if (url.origin !== client.base.origin) return dropped(`points at ${url.origin}, not ${client.base.origin}`);
  let held: number;
  let location = url;
  if (ecr) {
    held = saved.held;
  } else {
    const status = await uploadStatus(client, repo, url, what);
    if (!status) {
      // The usual end of an upload cut by Ctrl-C or a kill: distribution cancels a session whose chunk was cut.
      // Nothing is wrong, so a note, once per blob: that blob goes up again from its first byte.
      return drop(`note: ${label}: the upload an earlier run left is gone from ${client.host} (cancelled when its last chunk was cut, or expired): that blob is sent again from the start`, false);
    }
    held = status.held;
    location = status.location;
  }
  if (held > blob.size) return dropped(`holds ${held} bytes, more than the blob's ${blob.size}`, location);
  note(`${label}: continuing the upload kept from an earlier run at byte ${held} of ${blob.size}`, false);
  return { location, held };
}
