// An OCI Distribution API client: one request loop (auth header, one token refresh on 401, retries with backoff
// honouring Retry-After) and the small endpoints built on it. Blob uploads live in upload.ts.
import type { Readable } from 'node:stream';
import { noticeRetry } from '../report/retries.js';
import { GamelayerError, type ErrorCode } from '../errors.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES } from '../oci/media-types.js';
import { DockerAuth, type RegistryAuth } from './auth.js';
import { pullScope, pushScope } from './scopes.js';
import { parseChallenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { assertTransportAllowed, registryBaseUrl } from './reference.js';
import { plainToHttpsPort, tlsFailure } from './tls-errors.js';
import { backoffDelay, DEFAULT_RETRY, isRetryableError, isRetryableStatus, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
import { BodyTooLarge, DEADLINE_MS, MAX_BODY_BYTES, MAX_DRAIN_BYTES, send, TransportError, type HttpResponse } from './transport.js';
import { sha256Digest } from '../oci/layout.js';
import { countTagPage, type TagListTotals } from './tag-list-bounds.js';

export { MANIFEST_ACCEPT, MEDIA_TYPES };

/** What a request is part of: a read (pull scope) or a push (push scope). */
export type Access = 'pull' | 'push';

export interface RegistryClientOptions {
  /** Registry host[:port] (or an explicit http(s):// URL). */
  host: string;
  /** Allow plain HTTP to a non-loopback host. */
  insecure?: boolean;
  /** Authentication; default DockerAuth over `credentials`. */
  auth?: RegistryAuth;
  credentials?: Credentials;
  retry?: Partial<RetryPolicy>;
  /** Idle timeout of one exchange; default 60 s, or GAMELAYER_REGISTRY_IDLE_TIMEOUT (seconds). */
  idleTimeoutMs?: number;
  /**
   * Overall deadline of one exchange (our request body's streaming aside); default 120 s, or
   * GAMELAYER_REGISTRY_TIMEOUT (seconds). A missed deadline is retried as other faults.
   */
  exchangeTimeoutMs?: number;
  /** Bytes drained from an unwanted answer before its connection is dropped instead; default 64 KiB. */
  maxDrainBytes?: number;
  /** The hint of a 403 / DENIED answer (ECR's names the IAM actions a push needs); default a generic one. */
  deniedHint?: string;
}

/** Reads a time in seconds from the environment (decimals allowed); a malformed value is an error, not a default. */
export function timeoutFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const seconds = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(seconds > 0)) {
    throw new GamelayerError('registry.timeout-setting', `${name}="${v}": expected a positive number of seconds, such as 120 or 0.5`);
  }
  return Math.round(seconds * 1000);
}

/**
 * `GAMELAYER_REGISTRY_RETRIES`: attempts in all for a request that fails in a way worth repeating (default 6, about
 * 8 s of back-off): more on a flaky link, 1 to fail at once (an interactive check of a registry that is down).
 */
function attemptsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.GAMELAYER_REGISTRY_RETRIES;
  if (v === undefined || v === '') return undefined;
  const n = Number(v.trim());
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 20) {
    throw new GamelayerError('registry.retries-setting', `GAMELAYER_REGISTRY_RETRIES="${v}": expected a whole number of attempts from 1 to 20, such as 6`);
  }
  return n;
}

export interface RequestOptions {
  method: string;
  /** Path under the registry (`/v2/…`) or an absolute URL the registry gave us (Location). */
  target: string | URL;
  headers?: Record<string, string>;
  /** Produces the body for each attempt (a fresh stream every time). */
  body?: () => Buffer | Readable;
  onBodyProgress?: (bytes: number) => void;
  scopes: string[];
  /** Statuses returned to the caller; anything else is an error. */
  ok: number[];
  /** Retry on 408/429/5xx/connection errors; off for requests whose effect must not repeat blindly. */
  retry?: boolean;
  /** What this request does, for messages: "upload blob sha256:… to studio/game". */
  what: string;
  /**
   * Read the body of an `ok` answer (at most this many bytes) as part of the exchange, so that a reset or a
   * missed deadline while reading it is retried like any other fault; `buffer()`/`text()` then return it.
   */
  read?: number;
  /**
   * Stops the request between attempts once aborted: no new attempt, no back-off wait (an attempt under way runs to
   * its answer or timeout). A step whose side-by-side requests are moot once one failed aborts the others with it.
   */
  signal?: AbortSignal;
}

/**
 * An answer the registry gave that the request did not accept: its HTTP status and, from an OCI error body,
 * the registry's own error code and message, as fields to branch on (never parsed back out of our message).
 */
export class RegistryError extends GamelayerError {
  constructor(
    code: ErrorCode,
    message: string,
    hint: string | undefined,
    readonly status: number,
    readonly registryCode?: string,
    readonly registryMessage?: string,
  ) {
    super(code, message, hint);
  }
}

/** Bytes of an error answer's body read for its detail; the rest is dropped with the connection. */
const ERROR_BODY_BYTES = 64 * 1024;
/**
 * Characters of a registry's error message kept. ECR's refusals name the principal's and the repository's ARNs
 * before what refused (`… because no resource-based policy allows the ecr:PutImage action`): 300 cut that off.
 */
const MAX_REGISTRY_MESSAGE = 600;
/** What to do once retries gave up (docs/errors.md): no manifest was put, so a later run just sends what is missing. */
const GAVE_UP_HINT = 'the registry or the network failed repeatedly; try again later (the next push sends only what is missing)';

/**
 * A failure worth another try (5xx, 429, 408, connection reset or timeout) from a request made with
 * `retry: false`: the caller (an upload flow) decides how to resume.
 */
export class TransientRegistryError extends GamelayerError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super('registry.transient', message, 'the registry or the network failed repeatedly; try again later', options);
  }
}

/** An HTML page where the distribution API answers JSON or blob bytes: a login portal or a proxy's page. */
function isHtml(res: HttpResponse): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(res.header('content-type') ?? '');
}

/** A digest's form (algorithm:encoded, from the OCI image spec), whatever its algorithm. */
const DIGEST_FORM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** A manifest reference is a digest or a tag, and a tag has no colon. */
const isDigest = (reference: string): boolean => reference.includes(':');
/** A tag, as the distribution spec defines it. */
const TAG_FORM = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export class RegistryClient {
  readonly host: string;
  readonly base: URL;
  readonly insecure: boolean;
  readonly auth: RegistryAuth;
  readonly retry: RetryPolicy;
  /**
   * What this client learnt of its registry, shared with its cancellable views: the referrers API is missing there
   * (referrers.ts). Per client, not per process: one odd answer does not hold for a long-lived library user's later clients.
   */
  readonly learnt: { noReferrersApi?: true } = {};
  private readonly idleTimeoutMs: number;
  private readonly exchangeTimeoutMs: number;
  private readonly maxDrainBytes: number;
  private readonly deniedHint: string;
  /** Whose credentials a 401 refused (` (user ci, from <config.json> auths)`): a stale docker login is found by it. */
  private readonly credentialsSaid: string;

  constructor(opts: RegistryClientOptions) {
    this.insecure = opts.insecure ?? false;
    this.base = registryBaseUrl(opts.host, this.insecure);
    this.host = this.base.host;
    this.auth = opts.auth ?? new DockerAuth(this.host, opts.credentials, this.insecure);
    const attempts = attemptsFromEnv();
    this.retry = { ...DEFAULT_RETRY, ...(attempts !== undefined ? { attempts } : {}), ...opts.retry };
    this.idleTimeoutMs = opts.idleTimeoutMs ?? timeoutFromEnv('GAMELAYER_REGISTRY_IDLE_TIMEOUT') ?? 60_000;
    this.exchangeTimeoutMs = opts.exchangeTimeoutMs ?? timeoutFromEnv('GAMELAYER_REGISTRY_TIMEOUT') ?? DEADLINE_MS;
    this.maxDrainBytes = opts.maxDrainBytes ?? MAX_DRAIN_BYTES;
    this.deniedHint = opts.deniedHint ?? 'check that these credentials may push to this repository';
    const creds = opts.auth ? undefined : opts.credentials;
    this.credentialsSaid = creds ? ` (${creds.username ? `user ${creds.username}, ` : ''}from ${creds.source})` : '';
  }

  /**
   * This client with `signal` on every request made through it (RequestOptions.signal): for work such as an upload,
   * several requests deep, that a step cancels as a whole.
   */
  cancellable(signal: AbortSignal): RegistryClient {
    const view = Object.create(this) as RegistryClient;
    view.request = (o: RequestOptions) => this.request({ ...o, signal: o.signal ?? signal });
    return view;
  }

  /** Resolves a Location header (absolute or relative) against the URL it answered, keeping its query. */
  resolve(location: string, against: URL): URL {
    const url = new URL(location, against);
    assertTransportAllowed(url, this.insecure, 'an upload location');
    return url;
  }

  async request(o: RequestOptions): Promise<HttpResponse> {
    const url = typeof o.target === 'string' ? new URL(o.target, this.base) : o.target;
    const sameHost = url.host === this.base.host;
    let refreshed = false;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      o.signal?.throwIfAborted();
      const headers: Record<string, string> = { 'user-agent': 'gamelayer', ...o.headers };
      // Credentials go to the registry host only, never to a host a Location points elsewhere.
      const authorization = sameHost ? await this.auth.authorization(o.scopes) : undefined;
      if (authorization) headers.authorization = authorization;
      let res: HttpResponse;
      try {
        res = await send({
          method: o.method,
          url,
          headers,
          body: o.body?.(),
          onBodyProgress: o.onBodyProgress,
          idleTimeoutMs: this.idleTimeoutMs,
          deadlineMs: this.exchangeTimeoutMs,
          maxDrainBytes: this.maxDrainBytes,
          readBody: o.read ? { maxBytes: o.read, when: (status) => o.ok.includes(status) } : undefined,
        });
      } catch (e) {
        if (isRetryableError(e)) {
          lastProblem = (e as TransportError).code;
          if (o.retry === false) {
            throw new TransientRegistryError(`${o.what}: connection to ${this.host} failed (${lastProblem})`, undefined, { cause: e });
          }
          if (attempt < this.retry.attempts) {
            const delayMs = backoffDelay(this.retry, attempt);
            noticeRetry({ what: o.what, attempt, attempts: this.retry.attempts, reason: `${this.host}: ${lastProblem}`, delayMs });
            await sleep(delayMs, o.signal);
            continue;
          }
        }
        throw this.networkError(e, o.what, attempt, url);
      }
      if (res.status === 401 && sameHost && !refreshed) {
        refreshed = true;
        const challenge = res.header('www-authenticate');
        await res.discard();
        if (await this.auth.refresh(challenge, o.scopes, authorization)) {
          attempt--; // an auth round trip is not a failed attempt
          continue;
        }
        throw this.unauthorized(challenge, o, authorization !== undefined);
      }
      if (o.ok.includes(res.status)) {
        // A 2xx only: some fronts answer a real 404 (a blob not there) with their own HTML page.
        if (res.status >= 200 && res.status < 300 && isHtml(res)) {
          await res.discard();
          throw this.badAnswer(o.what, res, `an HTML page (Content-Type: ${res.header('content-type')})`);
        }
        return this.guarded(res, o.what, attempt);
      }
      if (isRetryableStatus(res.status)) {
        lastProblem = `HTTP ${res.status}`;
        const retryAfter = parseRetryAfter(res.header('retry-after'));
        await res.discard();
        if (o.retry === false) throw new TransientRegistryError(`${o.what}: ${this.host} answered ${lastProblem}`, retryAfter);
        if (attempt < this.retry.attempts) {
          const delayMs = backoffDelay(this.retry, attempt, retryAfter);
          noticeRetry({ what: o.what, attempt, attempts: this.retry.attempts, reason: `${this.host} answered ${lastProblem}`, delayMs });
          await sleep(delayMs, o.signal);
          continue;
        }
        break;
      }
      if (res.status === 401) {
        const challenge = res.header('www-authenticate');
        await res.discard();
        throw this.unauthorized(challenge, o, authorization !== undefined);
      }
      throw await this.statusError(res, o.what);
    }
    throw new GamelayerError('registry.retries', `${o.what}: ${this.host} kept failing (${lastProblem}) after ${this.retry.attempts} attempts`, GAVE_UP_HINT);
  }

  /**
   * A blob's bytes as a stream. Registries may redirect to storage on another host (ECR: S3); the redirect is
   * followed without our credentials. The caller verifies the digest while storing it. `firstBytes`: only the
   * blob's start is wanted (`Range: bytes=0-…`); a registry may ignore it and send the whole blob, which the caller
   * then stops reading.
   */
  async getBlob(repo: string, digest: string, firstBytes?: number): Promise<Readable> {
    const what = `download blob ${digest} from ${this.host}/${repo}`;
    const headers = firstBytes === undefined ? undefined : { range: `bytes=0-${firstBytes - 1}` };
    const res = await this.request({
      method: 'GET',
      target: `/v2/${repo}/blobs/${digest}`,
      headers,
      scopes: [pullScope(repo)],
      ok: [200, 206, 302, 303, 307],
      what,
    });
    if (res.status === 200 || res.status === 206) return res.stream();
    const location = res.header('location');
    await res.discard();
    if (!location) throw new GamelayerError('registry.redirect', `${what}: redirect without a Location`);
    const next = await this.request({ method: 'GET', target: this.resolve(location, res.url), headers, scopes: [], ok: [200, 206], what });
    return next.stream();
  }

  /**
   * GET /v2/: checks reachability and lets the auth learn the scheme (and validate credentials) early. Once per
   * client: the images of one build share it, and a no-op push is only round trips. A failure is not kept.
   */
  ping(): Promise<void> {
    this.pinged ??= (async () => {
      const res = await this.request({ method: 'GET', target: '/v2/', scopes: [], ok: [200], what: `reach registry ${this.host}` });
      await res.discard();
    })().catch((e: unknown) => {
      this.pinged = undefined;
      throw e;
    });
    return this.pinged;
  }

  private pinged?: Promise<void>;

  /**
   * The token scope a call asks for: reads ask `pull` (read-only credentials work, and a token server grants no
   * more than needed); a push asks `pull,push` for its checks too, so one token serves the whole push.
   */
  private scope(repo: string, access: Access): string {
    return access === 'push' ? pushScope(repo) : pullScope(repo);
  }

  /**
   * Whether `repo` holds the blob. A 200 must be about this blob: a Docker-Content-Digest, when sent, must be its
   * digest, and a Content-Length, when sent and `size` is known, its size (the distribution spec has registries
   * send it; a login page or a proxy answering 200 to everything sends its own). Such an answer is refused, never
   * taken for "already there" (a manifest would then be put whose blobs are missing).
   */
  async blobExists(repo: string, digest: string, access: Access = 'pull', size?: number): Promise<boolean> {
    const what = `check blob ${digest} in ${repo}`;
    const res = await this.request({
      method: 'HEAD',
      target: `/v2/${repo}/blobs/${digest}`,
      scopes: [this.scope(repo, access)],
      ok: [200, 404],
      what,
    });
    await res.discard();
    if (res.status !== 200) return false;
    this.checkBlobAnswer(what, res, repo, digest, size, { header: 'Content-Length', value: res.header('content-length') });
    return true;
  }

  /**
   * Blob `digest`'s size in `repo` as a HEAD says it; undefined when absent or not said (a redirect to storage, a
   * length of 0 or none). Its answer is checked as blobExists checks it.
   */
  async blobSize(repo: string, digest: string, access: Access = 'pull'): Promise<number | undefined> {
    const what = `check blob ${digest} in ${repo}`;
    const res = await this.request({ method: 'HEAD', target: `/v2/${repo}/blobs/${digest}`, scopes: [this.scope(repo, access)], ok: [200, 302, 303, 307, 404], what });
    await res.discard();
    if (res.status !== 200) return undefined;
    const told = res.header('content-length');
    this.checkBlobAnswer(what, res, repo, digest, undefined, { header: 'Content-Length', value: told });
    return told !== undefined && told.trim() !== '0' && Number.isFinite(Number(told)) ? Number(told) : undefined;
  }

  /**
   * Whether the registry serves blob `digest`'s bytes: a GET of its first byte (`Range: bytes=0-0`; a registry that
   * sends it all anyway is cut off after a few KiB), its answer checked as blobExists checks a HEAD's (the blob's
   * size from Content-Range, or a whole answer's Content-Length). A HEAD answer is only headers, and something in
   * front of a registry (a cache keeping an old answer, a front answering 200 to any HEAD) can say "there" of a blob
   * the registry lacks: its manifest is then refused (MANIFEST_BLOB_UNKNOWN) however often it is put. This one GET
   * answers both questions, so it is asked alone. A redirect (ECR's to S3) is the registry naming where the bytes
   * are: taken as there.
   */
  async blobReadable(repo: string, digest: string, access: Access = 'pull', size?: number): Promise<boolean> {
    const what = `read the first byte of blob ${digest} in ${repo}`;
    const res = await this.request({
      method: 'GET',
      target: `/v2/${repo}/blobs/${digest}`,
      headers: { range: 'bytes=0-0' },
      scopes: [this.scope(repo, access)],
      ok: [200, 206, 302, 303, 307, 404],
      what,
    });
    await res.discard();
    if (res.status === 404) return false;
    if (res.status === 200 || res.status === 206) {
      // `bytes 0-0/SIZE` (the total may be `*`: not told); a 200 sent the whole blob, its length its size.
      const length = res.status === 206 ? { header: 'Content-Range', value: /\/(\d+)\s*$/.exec(res.header('content-range') ?? '')?.[1] } : { header: 'Content-Length', value: res.header('content-length') };
      this.checkBlobAnswer(what, res, repo, digest, size, length);
    }
    return true;
  }

  /** A 200 about blob `digest` that names another blob, or gives it another size (`length`), is refused (blobExists). */
  private checkBlobAnswer(what: string, res: HttpResponse, repo: string, digest: string, size: number | undefined, length: { header: string; value: string | undefined }): void {
    const stored = res.header('docker-content-digest');
    if (stored && stored !== digest) throw this.badAnswer(what, res, `Docker-Content-Digest ${stored}, another blob`);
    // "0" is taken for not told (a proxy that drops a HEAD's length may write 0); a page sends its own length.
    const told = length.value;
    if (size !== undefined && told !== undefined && told.trim() !== '0' && Number(told) !== size) {
      // The registry itself (it names the blob) holds these bytes under another size: its copy is damaged (a blob's
      // size is fixed by its digest); without that header the answer may be anything's in front of it.
      if (stored === digest) {
        throw new GamelayerError(
          'registry.blob-size',
          `${what}: ${repo} holds ${digest} with ${told} bytes, the blob has ${size}: the registry's copy is damaged`,
          'delete that blob (or the images using it) from the repository, then push again',
        );
      }
      throw this.badAnswer(what, res, `${length.header} ${told}, where the blob has ${size} bytes`);
    }
  }

  /**
   * The manifest a tag or digest names, if there. A 200 must say which manifest: its Docker-Content-Digest must be
   * a digest, and the one asked for when `reference` is a digest, or the answer is refused (an HTML page is refused
   * by request()). The spec lets a registry leave the header out: the manifest is then read and hashed instead.
   */
  async headManifest(repo: string, reference: string, access: Access = 'pull'): Promise<ManifestInfo | undefined> {
    const what = `check manifest ${repo}:${reference}`;
    const res = await this.request({
      method: 'HEAD',
      target: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [this.scope(repo, access)],
      ok: [200, 404],
      what,
    });
    await res.discard();
    if (res.status === 404) return undefined;
    const digest = res.header('docker-content-digest');
    if (digest === undefined) {
      const read = await this.getManifestIfExists(repo, reference, access);
      // Hashed in sha256, the only algorithm gamelayer names manifests with.
      if (read && reference.startsWith('sha256:') && read.digest !== reference) {
        const url = new URL(`/v2/${repo}/manifests/${reference}`, this.base);
        throw this.badAnswer(`get manifest ${repo}:${reference}`, { url, status: 200 }, `a manifest whose bytes hash to ${read.digest}`);
      }
      return read && { digest: read.digest, mediaType: read.mediaType, size: read.size };
    }
    if (!DIGEST_FORM.test(digest)) throw this.badAnswer(what, res, `Docker-Content-Digest "${digest.slice(0, 100)}", not a digest`);
    if (isDigest(reference) && digest !== reference) throw this.badAnswer(what, res, `Docker-Content-Digest ${digest}, another manifest`);
    return {
      digest,
      mediaType: (res.header('content-type') ?? '').split(';')[0]!.trim(),
      size: Number(res.header('content-length') ?? 0),
    };
  }

  async getManifest(repo: string, reference: string, access: Access = 'pull'): Promise<{ bytes: Buffer } & ManifestInfo> {
    return (await this.fetchManifest(repo, reference, access, [200]))!;
  }

  /** A manifest that may not be there: undefined for 404 (one round trip, where HEAD then GET takes two). */
  async getManifestIfExists(repo: string, reference: string, access: Access = 'pull'): Promise<({ bytes: Buffer } & ManifestInfo) | undefined> {
    return this.fetchManifest(repo, reference, access, [200, 404]);
  }

  private async fetchManifest(repo: string, reference: string, access: Access, ok: number[]): Promise<({ bytes: Buffer } & ManifestInfo) | undefined> {
    const res = await this.request({
      method: 'GET',
      target: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [this.scope(repo, access)],
      ok,
      what: `get manifest ${repo}:${reference}`,
      read: MAX_BODY_BYTES,
    });
    if (res.status === 404) {
      await res.discard();
      return undefined;
    }
    const bytes = await res.buffer();
    const digest = sha256Digest(bytes);
    return { bytes, digest, size: bytes.length, mediaType: (res.header('content-type') ?? '').split(';')[0]!.trim() };
  }

  /** PUTs manifest bytes exactly as given, typed by their mediaType; returns the digest the registry computed. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request({
      method: 'PUT',
      target: `/v2/${repo}/manifests/${reference}`,
      headers: { 'content-type': mediaType },
      body: () => bytes,
      scopes: [pushScope(repo)],
      ok: [201, 202, 200],
      what: `put manifest ${repo}:${reference}`,
    });
    await res.discard();
    const expected = sha256Digest(bytes);
    const got = res.header('docker-content-digest');
    // The spec answers 201 Created; a bare 200 (no digest of what was stored) is what a page answering every
    // request sends, and the manifest may be stored nowhere.
    if (res.status === 200 && !got) {
      throw this.badAnswer(`put manifest ${repo}:${reference}`, res, 'status 200 without Docker-Content-Digest (a registry answers 201 Created)');
    }
    if (got && got !== expected) {
      throw new GamelayerError('registry.digest', `put manifest ${repo}:${reference}: ${this.host} stored ${got}, expected ${expected}`);
    }
    return expected;
  }

  /** All tags of a repository, following `Link: <…>; rel="next"` pages of at most 1000 (ECR's limit); none when it does not exist. */
  async listTags(repo: string, pageSize = 1000, access: Access = 'pull'): Promise<string[]> {
    return (await this.listTagsIfExists(repo, pageSize, access)) ?? [];
  }

  /** listTags of a repository that must be there: none (404) is a `registry.not-found` naming it, with `hint`. */
  async listTagsOfExisting(repo: string, hint: string): Promise<string[]> {
    const tags = await this.listTagsIfExists(repo);
    if (!tags) throw new GamelayerError('registry.not-found', `${this.host}/${repo}: no such repository (${this.host} answered 404 to its tag list)`, hint);
    return tags;
  }

  /**
   * listTags, but undefined when the registry answers the first page 404: no such repository (distribution and ECR
   * answer NAME_UNKNOWN; a repository whose tags were all deleted answers 200 with none).
   */
  async listTagsIfExists(repo: string, pageSize = 1000, access: Access = 'pull'): Promise<string[] | undefined> {
    const tags: string[] = [];
    const n = Math.min(1000, Math.max(1, Math.floor(pageSize)));
    let target: string | URL = `/v2/${repo}/tags/list?n=${n}`;
    // Pages read: a `next` naming one again would list the same tags without end.
    const read = new Set<string>();
    const totals: TagListTotals = { tags: 0, bytes: 0 };
    for (let page = 0; page < 10_000; page++) {
      read.add(new URL(target, this.base).href);
      const res: HttpResponse = await this.request({
        method: 'GET',
        target,
        scopes: [this.scope(repo, access)],
        ok: [200, 404],
        what: `list tags of ${repo}`,
        read: MAX_BODY_BYTES,
      });
      if (res.status === 404) {
        await res.discard();
        return page === 0 ? undefined : tags;
      }
      const what = `list tags of ${repo}`;
      let body: { tags?: unknown };
      const text = await res.text();
      try {
        body = JSON.parse(text) as { tags?: unknown };
      } catch {
        throw this.badAnswer(what, res, 'a tag list that is not JSON');
      }
      // Tags name what `ls` shows and what `prune` keeps: each must be a tag (the distribution spec's grammar).
      const list = body?.tags ?? [];
      if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && TAG_FORM.test(t))) {
        throw this.badAnswer(what, res, 'a tag list whose tags are not all tag names');
      }
      // A page may list more than the n asked for (CNCF distribution answers n=1 with every tag): the listing's
      // totals bound it, not n.
      countTagPage(totals, `${this.host}/${repo}`, list.length, Buffer.byteLength(text));
      tags.push(...(list as string[]));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.header('link') ?? '');
      if (!next) return tags;
      target = this.resolve(next[1]!, typeof target === 'string' ? new URL(target, this.base) : target);
      if (read.has(target.href)) throw this.badAnswer(what, res, 'Link rel="next" to a page already read');
      // A registry's next page is its own: one elsewhere lists what that host likes (prune keeps what the list names).
      if (target.host !== this.base.host) throw this.badAnswer(what, res, `Link rel="next" to another host (${target.host})`);
    }
    // A listing cut short would let prune take tagged images for untagged ones.
    throw new GamelayerError('registry.protocol', `list tags of ${repo}: ${this.host} listed more than 10000 pages of tags`);
  }

  /** The answer with its body reads failing as GamelayerErrors (too large, a reset while reading) naming the request. */
  private guarded(res: HttpResponse, what: string, attempt: number): HttpResponse {
    const wrap =
      <A extends unknown[], T>(read: (...args: A) => Promise<T>) =>
      (...args: A): Promise<T> =>
        read(...args).catch((e: unknown) => {
          throw this.networkError(e, what, attempt, res.url);
        });
    return { ...res, buffer: wrap(res.buffer), text: wrap(res.text) };
  }

  /** An answer no registry gives (see blobExists): refused early, naming the URL and what was wrong. */
  private badAnswer(what: string, res: Pick<HttpResponse, 'url' | 'status'>, problem: string): GamelayerError {
    return new GamelayerError(
      'registry.bad-answer',
      // Without the query: a storage redirect's carries a signature.
      `${what}: ${res.url.origin}${res.url.pathname} answered HTTP ${res.status} with ${problem}; that is not a registry's answer`,
      'something in front of the registry (a login portal, a misconfigured proxy) answers in its place: check the registry address and any proxy settings',
    );
  }

  /**
   * `url`: the request's, when it went to another host than the registry (a Location, a next page): that host is
   * named, not the registry (a storage redirect to a host that refused was said as "<registry> refused").
   */
  private networkError(e: unknown, what: string, attempts: number, url?: URL): GamelayerError {
    if (e instanceof GamelayerError) return e;
    const away = url !== undefined && url.host !== this.base.host;
    const host = away ? url.host : this.host;
    if (away) what = `${what} (sent to ${url.host} by ${this.host})`;
    if (e instanceof BodyTooLarge) {
      return new GamelayerError(
        'registry.too-large',
        `${what}: ${host} answered with more than ${e.maxBytes} bytes, more than such an answer can hold`,
        'the registry (or something between it and you) is broken or hostile; report it with the registry\'s name and version',
        { cause: e },
      );
    }
    const code = e instanceof TransportError ? e.code : 'error';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new GamelayerError('registry.unknown-host', `${what}: cannot resolve ${away ? 'host' : 'registry host'} ${away ? url.hostname : this.base.hostname}`, 'check the registry name in the image reference or gamelayer.yaml', { cause: e });
    }
    if (code === 'EPROXY') {
      return new GamelayerError('registry.proxy', `${what}: ${(e as Error).message}`, 'check HTTPS_PROXY / HTTP_PROXY, or list the registry in NO_PROXY to reach it directly', { cause: e });
    }
    if (code === 'ECONNREFUSED') {
      return new GamelayerError('registry.unreachable', `${what}: ${host} refused the connection (after ${attempts} attempts)`, 'is the registry running and is the port right?', { cause: e });
    }
    if (/CERT|SSL|TLS|EPROTO/i.test(code)) {
      return tlsFailure(host, code, what, e);
    }
    const hint = code === 'ETIMEDOUT' ? `${GAVE_UP_HINT}; on a slow link raise GAMELAYER_REGISTRY_TIMEOUT (seconds)` : GAVE_UP_HINT;
    return new GamelayerError('registry.network', `${what}: network error with ${host} (${code}) after ${attempts} attempts`, hint, { cause: e });
  }

  private unauthorized(challenge: string | undefined, o: RequestOptions, sent: boolean): GamelayerError {
    const c = parseChallenge(challenge);
    if (c?.params.error === 'insufficient_scope') {
      return new GamelayerError('registry.denied', `${o.what}: ${this.host} denied access (insufficient scope: ${o.scopes.join(' ') || 'none'})`, 'these credentials may read but not push this repository');
    }
    // Nothing sent (no credentials found, or a scheme ours cannot answer): "refused ours" would send the user
    // looking for a wrong password.
    const why = sent ? `refused ours${this.credentialsSaid}` : 'none were found for it (no --username, GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD or docker config.json entry)';
    return new GamelayerError('registry.unauthorized', `${o.what}: ${this.host} requires authentication and ${why}`, 'pass --username USER --password-stdin, set GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login');
  }

  private async statusError(res: HttpResponse, what: string): Promise<RegistryError> {
    let registryCode: string | undefined;
    let registryMessage: string | undefined;
    const text = await res.peek(ERROR_BODY_BYTES).catch(() => '');
    const httpsPort = plainToHttpsPort(this.host, res.status, text, what);
    if (httpsPort) return new RegistryError('registry.tls', httpsPort.message, httpsPort.hint, res.status);
    try {
      const body = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
      const first = body.errors?.[0];
      if (typeof first?.code === 'string') registryCode = first.code.slice(0, 100);
      if (typeof first?.message === 'string') registryMessage = first.message.slice(0, MAX_REGISTRY_MESSAGE);
    } catch {
      // not an OCI error body
    }
    const detail = registryCode || registryMessage ? `: ${registryCode ?? ''}${registryMessage ? ` ${registryMessage}` : ''}`.slice(0, MAX_REGISTRY_MESSAGE + 102) : '';
    const error = (code: ErrorCode, message: string, hint?: string) => new RegistryError(code, message, hint, res.status, registryCode, registryMessage);
    if (res.status === 403 || registryCode === 'DENIED') {
      return error('registry.denied', `${what}: ${this.host} denied access (HTTP ${res.status}${detail})`, this.deniedHint);
    }
    if (res.status === 404) {
      const hint = registryCode === 'NAME_UNKNOWN' ? 'the repository does not exist: create it (on Amazon ECR: --create-repo), or check the name' : undefined;
      return error('registry.not-found', `${what}: ${this.host} answered 404${detail}`, hint);
    }
    return error('registry.http', `${what}: ${this.host} answered HTTP ${res.status}${detail}`);
  }
}
