// An HTTP proxy in front of a test registry that counts the request body bytes clients send through it (what a push
// really put on the wire, not what the client says it sent). `buffer`: each request is read whole before it is passed
// on, as nginx does by default (proxy_request_buffering on), so a client killed mid-body reaches the registry with
// nothing of that request; `stream`: bytes go on as they come, and a cut client cuts the registry's request too.
// Optionally strips Range from GET answers (a registry that does not report upload progress).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  host: string;
  /** `buffer` or `stream` (above), for the requests that start from now on. */
  mode: 'buffer' | 'stream';
  /** Request body bytes received from clients since the last reset. */
  received: number;
  /** Called after every piece of request body received (the test kills a client past a count here). */
  onReceived?: (total: number) => void;
  /**
   * Requests passed on since the last reset (method, path with query): what a test counts GETs of a blob by; `bytes`,
   * the request body bytes received so far (whole once the request ended): what a test counts an upload's bytes by.
   */
  seen: { method: string; path: string; bytes: number }[];
  /** Drop the Range header of GET answers. */
  stripRange: boolean;
  reset(): void;
  stop(): Promise<void>;
}

export async function startCountingProxy(upstream: string, mode: 'buffer' | 'stream'): Promise<CountingProxy> {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const proxy: CountingProxy = {
    host: '',
    mode,
    received: 0,
    seen: [],
    stripRange: false,
    reset() {
      proxy.received = 0;
      proxy.seen = [];
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? '', path: req.url ?? '', bytes: 0 };
    proxy.seen.push(seen);
    const out = http.request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstream }, agent },
      (answer) => {
        const headers = { ...answer.headers };
        if (proxy.stripRange && req.method === 'GET') delete headers.range;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    let ended = false;
    const buffered = proxy.mode === 'buffer';
    const pieces: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      proxy.received += c.length;
      seen.bytes += c.length;
      if (buffered) pieces.push(c);
      else out.write(c);
      proxy.onReceived?.(proxy.received);
    });
    req.on('end', () => {
      ended = true;
      if (buffered) for (const p of pieces) out.write(p);
      out.end();
    });
    // A client gone mid-body: buffered, the registry never hears of it; streamed, its request is cut too.
    req.on('close', () => {
      if (!ended) out.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = server.close.bind(server);
  proxy.stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      close(() => r());
    });
  return proxy;
}
