// A small counting HTTP proxy put in front of a registry: what a client sent is counted where the registry
// receives it, the same way for every client (docker's daemon, gamelayer), never from a client's own counters.
// Request bodies of PATCH/PUT/POST to /v2/ are counted (blob chunks, monolithic uploads, manifests); the Host
// header is passed through unchanged, so the registry's Location headers point back at the proxy.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyCounts {
  /** Body bytes of PATCH/PUT/POST requests to /v2/: what was uploaded. */
  uploadBytes: number;
  /** The part of uploadBytes that went to /manifests/. */
  manifestBytes: number;
  requests: number;
  uploadRequests: number;
  /** Body bytes of answers to GET /v2/ (manifests, records, blobs): what was downloaded. */
  downloadBytes: number;
}

/** One request through the proxy: what a bench counts by kind (a layer blob's GET, a manifest's). */
export interface ProxyRequest {
  method: string;
  path: string;
  /** Body bytes sent (PATCH/PUT/POST) and answer body bytes received (GET). */
  up: number;
  down: number;
}

export interface CountingProxy {
  /** `127.0.0.1:PORT`, the registry address to give the client. */
  host: string;
  counts(): ProxyCounts;
  /** With `log`: every request so far, in the order they were received (else none). */
  requests(): ProxyRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * `delayMs`: each answer is held back that long (a registry that far away: one round trip per request). `log`: keep
 * each request (method, path, bytes each way) for `requests()`.
 */
export async function startCountingProxy(upstream: { host: string; port: number }, opts: { delayMs?: number; log?: boolean } = {}): Promise<CountingProxy> {
  const counts: ProxyCounts = { uploadBytes: 0, manifestBytes: 0, requests: 0, uploadRequests: 0, downloadBytes: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const log: ProxyRequest[] = [];
  const server = http.createServer((req, res) => {
    counts.requests++;
    const entry: ProxyRequest = { method: req.method ?? '', path: req.url ?? '', up: 0, down: 0 };
    if (opts.log) log.push(entry);
    const upload = ['PATCH', 'PUT', 'POST'].includes(req.method ?? '') && (req.url ?? '').startsWith('/v2/');
    const manifest = upload && /\/manifests\//.test(req.url ?? '');
    if (upload) counts.uploadRequests++;
    const up = http.request(
      { host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent },
      (ur) => {
        const answer = () => {
          res.writeHead(ur.statusCode ?? 502, ur.statusMessage, endToEnd(ur.headers));
          if (req.method === 'GET' && (req.url ?? '').startsWith('/v2/')) ur.on('data', (c: Buffer) => {
            counts.downloadBytes += c.length;
            entry.down += c.length;
          });
          ur.pipe(res);
        };
        ur.on('error', () => res.destroy());
        if (opts.delayMs) {
          ur.pause();
          setTimeout(answer, opts.delayMs);
        } else answer();
      },
    );
    req.on('data', (c: Buffer) => {
      if (!upload) return;
      counts.uploadBytes += c.length;
      entry.up += c.length;
      if (manifest) counts.manifestBytes += c.length;
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    req.on('error', () => up.destroy());
    req.pipe(up);
  });
  // Docker probes a loopback registry over TLS before plain HTTP: that garbage just gets a 400.
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    requests: () => [...log],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
