// One HTTP exchange over node:http/https with keep-alive, an idle timeout, an overall deadline, bounded body reads
// and a streamed request body. Knows nothing about registries, auth or retries; network failures come back as
// TransportError with the errno code.
import http from 'node:http';
import type https from 'node:https';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { proxyAuthorization, proxyFor } from '../util/proxy.js';
import { registryWritesRefused } from '../util/registry-writes.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a stream read once (a retry needs a new one). */
  body?: Buffer | Readable;
  /** Called with each chunk size as the body is sent. */
  onBodyProgress?: (bytes: number) => void;
  /** No byte in either direction for this long ⇒ the exchange fails with ETIMEDOUT. */
  idleTimeoutMs?: number;
  /**
   * The whole exchange, from the moment our request body is sent (streaming a big body is bounded by the idle
   * timeout) until the answer's headers and, for a read or drained body, that body are in: a server that drips
   * one byte now and then never trips the idle timeout, but trips this (ETIMEDOUT, retried as other faults).
   */
  deadlineMs?: number;
  /** Bytes `discard()` reads to keep the connection; past them the connection is closed instead. */
  maxDrainBytes?: number;
  /** Bytes a streamed body (ours up, or the answer's via `stream()`) must move per `deadlineMs`; default 64 KiB. */
  minProgressBytes?: number;
  /**
   * Read the body before the exchange resolves, when the status says so: a failure while reading it (a reset, the
   * deadline) is then a failure of the exchange, which the caller may retry. Above `maxBytes` ⇒ EBODYTOOLARGE.
   */
  readBody?: { maxBytes: number; when: (status: number) => boolean };
}

/** Default bound of a body read into memory (distribution's own limit on a manifest is 4 MiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default bytes drained from an unwanted answer before the connection is dropped instead. */
export const MAX_DRAIN_BYTES = 64 * 1024;
/** Default overall deadline of one exchange. */
export const DEADLINE_MS = 120_000;
/** Bytes a streamed body (a layer up or down) must move per deadline window, or the exchange fails. */
export const MIN_PROGRESS_BYTES = 64 * 1024;

/**
 * Passes a streamed body through and fails it (ETIMEDOUT) when a whole window goes by with fewer than `minBytes`:
 * a peer that moves one byte every few seconds never trips an idle timeout, and a layer has no overall deadline.
 */
class ProgressGuard extends Transform {
  private moved = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(host: string, windowMs: number, minBytes: number, onChunk?: (n: number) => void) {
    super({
      transform: (chunk: Buffer, _enc, cb) => {
        this.moved += chunk.length;
        onChunk?.(chunk.length);
        cb(null, chunk);
      },
      flush: (cb) => {
        clearInterval(this.timer);
        cb();
      },
    });
    this.timer = setInterval(() => {
      if (this.moved < minBytes) {
        this.destroy(new TransportError('ETIMEDOUT', `the body exchanged with ${host} moved less than ${minBytes} bytes in ${windowMs} ms`));
      }
      this.moved = 0;
    }, windowMs);
    this.timer.unref?.();
    this.once('close', () => clearInterval(this.timer));
  }
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  url: URL;
  header(name: string): string | undefined;
  /** The body as text; more than `maxBytes` (default MAX_BODY_BYTES) ⇒ a TransportError EBODYTOOLARGE. */
  text(maxBytes?: number): Promise<string>;
  buffer(maxBytes?: number): Promise<Buffer>;
  /** At most the first `maxBytes` of the body (the rest is dropped with the connection): for error details. */
  peek(maxBytes: number): Promise<string>;
  /** Reads and drops the body (at most maxDrainBytes, then the connection is closed instead); never fails. */
  discard(): Promise<void>;
  /** The body as a stream, for large bodies (blobs); read it once, instead of buffer/text/discard. */
  stream(): Readable;
}

export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  /** Plain-http targets through HTTP_PROXY: requests in absolute form to the proxy, kept alive per proxy. */
  httpProxy: new http.Agent({ keepAlive: true, maxSockets: 16 }),
};

/**
 * node:https (with node:tls) and its agent, loaded by the first https exchange: a run that talks plain http alone (a
 * loopback registry) never needs them, and they cost about 2.5 ms to load (issue 17).
 */
let httpsStack: { https: typeof https; agent: https.Agent } | undefined;
let httpsLoading: Promise<unknown> | undefined;
function loadHttps(): Promise<unknown> {
  httpsLoading ??= Promise.all([import('node:https'), import('../util/proxy-agent.js')]).then(([h, a]) => {
    // Connects through HTTPS_PROXY (a CONNECT tunnel) unless NO_PROXY or loopback says direct.
    httpsStack = { https: h.default, agent: new a.EnvProxyHttpsAgent({ keepAlive: true, maxSockets: 16 }) };
  });
  return httpsLoading;
}

/** Where a request goes: the target itself, or (plain http behind HTTP_PROXY) the proxy with the absolute URL. */
function route(url: URL, headers: Record<string, string>): { target: URL | http.RequestOptions; agent: http.Agent } {
  // Read here for https too (the agent reads it again per connection): a bad proxy URL fails as itself.
  const proxy = proxyFor(url);
  if (url.protocol === 'https:') return { target: url, agent: httpsStack!.agent };
  if (!proxy) return { target: url, agent: agents.http };
  const auth = proxyAuthorization(proxy);
  if (auth) headers['proxy-authorization'] = auth;
  headers.host = url.host;
  return { target: { host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80), path: url.href }, agent: agents.httpProxy };
}

/** An answer whose body is larger than the bound of what is read into memory. */
export class BodyTooLarge extends TransportError {
  constructor(
    readonly host: string,
    readonly maxBytes: number,
  ) {
    super('EBODYTOOLARGE', `the answer from ${host} is larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** Reads `res` whole, failing once it passes `maxBytes` (the connection is dropped then: nothing more is read). */
async function collect(res: http.IncomingMessage, host: string, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new BodyTooLarge(host, maxBytes);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > maxBytes) {
      res.destroy();
      throw new BodyTooLarge(host, maxBytes);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

let writesSent = 0;

/** Requests of this process so far that were neither GET nor HEAD: a no-op `build --push` makes none (cli/fast-noop/record.ts). */
export function writeRequestsSent(): number {
  return writesSent;
}

export function send(req: HttpRequest): Promise<HttpResponse> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const refused = registryWritesRefused();
    if (refused) return Promise.reject(new Error(`${refused}: ${req.method} ${req.url.host}${req.url.pathname} not sent`));
    writesSent++;
  }
  const isHttps = req.url.protocol === 'https:';
  if (isHttps && !httpsStack) return loadHttps().then(() => send(req));
  const lib = isHttps ? httpsStack!.https : http;
  const headers: Record<string, string> = { ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
  const host = req.url.host;
  const deadlineMs = req.deadlineMs ?? DEADLINE_MS;
  const maxDrain = req.maxDrainBytes ?? MAX_DRAIN_BYTES;
  const minProgress = req.minProgressBytes ?? MIN_PROGRESS_BYTES;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const stopDeadline = () => clearTimeout(deadline);
    const fail = (e: unknown) => {
      stopDeadline();
      if (settled) return;
      settled = true;
      const code = (e as { code?: string }).code ?? 'ECONNRESET';
      if (req.body instanceof Readable) req.body.destroy();
      reject(e instanceof TransportError ? e : new TransportError(code, (e as Error).message, { cause: e }));
    };
    let r: http.ClientRequest;
    try {
      const { target, agent } = route(req.url, headers);
      r = target instanceof URL ? lib.request(target, { method: req.method, headers, agent }) : http.request({ ...target, method: req.method, headers, agent });
    } catch (e) {
      reject(e);
      return;
    }
    r.setTimeout(req.idleTimeoutMs ?? 60_000, () =>
      r.destroy(new TransportError('ETIMEDOUT', `no answer from ${host} for ${req.idleTimeoutMs ?? 60_000} ms`)),
    );
    // The deadline runs once our side is sent: the answer (and a body read or drained) must be in by then.
    r.on('finish', () => {
      deadline = setTimeout(() => {
        const e = new TransportError('ETIMEDOUT', `the exchange with ${host} took longer than ${deadlineMs} ms`);
        r.destroy(e);
        response?.destroy(e);
      }, deadlineMs);
      deadline.unref?.();
    });
    r.on('error', fail);
    r.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      response = res;
      res.on('end', stopDeadline);
      res.on('close', stopDeadline);
      const status = res.statusCode ?? 0;
      let body: Buffer | undefined;
      const answer: HttpResponse = {
        status,
        headers: res.headers,
        url: req.url,
        header: (name) => {
          const v = res.headers[name.toLowerCase()];
          return Array.isArray(v) ? v.join(', ') : v;
        },
        buffer: async (maxBytes = MAX_BODY_BYTES) => {
          if (body) {
            if (body.length > maxBytes) throw new BodyTooLarge(host, maxBytes);
            return body;
          }
          return collect(res, host, maxBytes);
        },
        stream: () => {
          // A streamed body (a blob) has no overall deadline: it must keep moving instead.
          stopDeadline();
          if (body) return Readable.from([body]);
          const guard = new ProgressGuard(host, deadlineMs, minProgress);
          pipeline(res, guard).catch(() => {}); // an error reaches the reader of `guard`
          return guard;
        },
        text: async (maxBytes = MAX_BODY_BYTES) => (await answer.buffer(maxBytes)).toString('utf8'),
        peek: async (maxBytes) => {
          if (body) return body.subarray(0, maxBytes).toString('utf8');
          const chunks: Buffer[] = [];
          let n = 0;
          try {
            for await (const c of res) {
              chunks.push(c as Buffer);
              n += (c as Buffer).length;
              if (n >= maxBytes) break; // leaving the loop destroys the rest with the connection
            }
          } catch {
            // a reset or the deadline: what arrived is all the detail there is
          }
          return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
        },
        discard: async () => {
          if (body || res.readableEnded) return;
          // An endless or dripping body (a 503 that never ends) must not hold the exchange: drain a little to keep
          // the connection, else drop it.
          await new Promise<void>((done) => {
            let n = 0;
            res.on('data', (c: Buffer) => {
              n += c.length;
              if (n > maxDrain) {
                res.destroy();
                done();
              }
            });
            res.on('end', done);
            res.on('close', done);
            res.on('error', () => done());
            res.resume();
          });
        },
      };
      if (!req.readBody?.when(status)) {
        settled = true;
        resolve(answer);
        return;
      }
      collect(res, host, req.readBody.maxBytes).then((b) => {
        body = b;
        stopDeadline();
        settled = true;
        resolve(answer);
      }, fail);
    });
    if (req.body === undefined) {
      r.end();
    } else if (Buffer.isBuffer(req.body)) {
      const length = req.body.length;
      r.end(req.body, () => req.onBodyProgress?.(length));
    } else {
      const counter = new ProgressGuard(host, deadlineMs, minProgress, req.onBodyProgress);
      pipeline(req.body, counter, r).catch(fail);
    }
  });
}
