// One HTTP exchange over node:http/https with keep-alive, an idle timeout and a streamed request body.
// Knows nothing about registries, auth or retries; network failures come back as TransportError with the errno code.
import http from 'node:http';
import https from 'node:https';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  url: URL;
  header(name: string): string | undefined;
  text(): Promise<string>;
  buffer(): Promise<Buffer>;
  /** Reads and drops the body, so the connection can be reused. */
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
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

export function send(req: HttpRequest): Promise<HttpResponse> {
  const isHttps = req.url.protocol === 'https:';
  const lib = isHttps ? https : http;
  const headers: Record<string, string> = { ...req.headers };
  if (Buffer.isBuffer(req.body)) headers['content-length'] = String(req.body.length);
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      const code = (e as { code?: string }).code ?? 'ECONNRESET';
      if (req.body instanceof Readable) req.body.destroy();
      reject(e instanceof TransportError ? e : new TransportError(code, (e as Error).message, { cause: e }));
    };
    const r = lib.request(req.url, { method: req.method, headers, agent: isHttps ? agents.https : agents.http });
    r.setTimeout(req.idleTimeoutMs ?? 60_000, () =>
      r.destroy(new TransportError('ETIMEDOUT', `no answer from ${req.url.host} for ${req.idleTimeoutMs ?? 60_000} ms`)),
    );
    r.on('error', fail);
    r.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      const collect = async (): Promise<Buffer> => {
        const chunks: Buffer[] = [];
        for await (const c of res) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        url: req.url,
        header: (name) => {
          const v = res.headers[name.toLowerCase()];
          return Array.isArray(v) ? v.join(', ') : v;
        },
        buffer: collect,
        stream: () => res,
        text: async () => (await collect()).toString('utf8'),
        discard: async () => {
          res.resume();
          await new Promise<void>((done) => {
            if (res.readableEnded) done();
            res.on('end', done);
            res.on('close', done);
            res.on('error', () => done());
          });
        },
      });
    });
    if (req.body === undefined) {
      r.end();
    } else if (Buffer.isBuffer(req.body)) {
      const length = req.body.length;
      r.end(req.body, () => req.onBodyProgress?.(length));
    } else {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          req.onBodyProgress?.(chunk.length);
          cb(null, chunk);
        },
      });
      pipeline(req.body, counter, r).catch(fail);
    }
  });
}
