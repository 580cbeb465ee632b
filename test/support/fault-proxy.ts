// A small HTTP proxy on 127.0.0.1 in front of a test registry that injects faults per rule: error statuses
// (500/502/503, 429 with Retry-After, 401 challenges), connections dropped part-way through a request body,
// and stalls. Everything else is forwarded unchanged (Host kept, so the registry's Location URLs point back here).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type FaultAction =
  /** Answer with this status (after reading the request body), never reaching the registry. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward the first `afterBytes` of the request body, then cut both connections. */
  | { kind: 'drop-request'; afterBytes: number }
  /** Forward the request, then cut the connection after `afterBytes` of the response body. */
  | { kind: 'drop-response'; afterBytes: number }
  /** Wait `ms` before forwarding (longer than the client's timeout ⇒ the client gives up). */
  | { kind: 'stall'; ms: number }
  /**
   * Keep the request unanswered until `until` settles, then forward it if the client is still there: the client
   * waits at a known point for as long as the test wants (to kill it there, say), however loaded the machine.
   * `onHeld` is called as the request is held (the test kills the client there: kill-at-request.ts).
   */
  | { kind: 'hold'; until: Promise<unknown>; onHeld?: () => void }
  /**
   * Run `before`, forward the request, and run `after` once the registry answered but before the answer reaches the
   * client: the registry's state is changed around one request at a known point (say, a storage file emptied the
   * way a concurrent write leaves it for a moment), however loaded the machine.
   */
  | { kind: 'around'; before: () => Promise<void>; after?: () => Promise<void> }
  /** Answer `status` with headers at once, then one byte of body every `intervalMs`, never ending. */
  | { kind: 'drip'; status: number; intervalMs: number }
  /** Answer `status` (a 3xx) with a Location made from the request's path, as ECR does to send blob reads to S3. */
  | { kind: 'redirect'; status: number; location: (path: string) => string }
  /** Answer `status` with a body that never ends, as fast as the client reads it. */
  | { kind: 'endless'; status: number; headers?: Record<string, string> };

export interface FaultRule {
  method?: string;
  path: RegExp;
  /** How many matching requests get the fault; default 1. */
  count?: number;
  /** How many matching requests go through untouched before the fault applies (the k-th upload, say); default 0. */
  after?: number;
  action: FaultAction;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** Index of the rule applied, if any. */
  fault?: number;
  /** For drip and endless answers: body bytes written before the client went away. */
  bodyBytesSent?: number;
  /** The request's headers, as received. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface FaultProxy {
  host: string;
  url: string;
  seen: SeenRequest[];
  /** How many times each rule fired. */
  fired: number[];
  setRules(rules: FaultRule[]): void;
  /**
   * Resolves once no request forwarded to the registry is waiting for its answer: one sent by a client killed since
   * may still complete there (a blob linked, its access-log line written) after the kill.
   */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultProxy(targetHost: string, initial: FaultRule[] = []): Promise<FaultProxy> {
  const [targetName, targetPort] = splitHost(targetHost);
  let rules: FaultRule[] = [];
  let remaining: number[] = [];
  let fired: number[] = [];
  let passed: number[] = [];
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let forwarding = 0;
  const proxy: FaultProxy = {
    host: '',
    url: '',
    seen,
    get fired() {
      return fired;
    },
    setRules(next) {
      rules = next;
      remaining = next.map((r) => r.count ?? 1);
      fired = next.map(() => 0);
      passed = next.map(() => 0);
    },
    async idle() {
      while (forwarding > 0) await new Promise((r) => setTimeout(r, 5));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  proxy.setRules(initial);

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const index = rules.findIndex(
      (r, i) => remaining[i]! > 0 && (!r.method || r.method === method) && r.path.test(url.split('?')[0]!),
    );
    const record: SeenRequest = { method, path: url, fault: index >= 0 ? index : undefined, headers: req.headers };
    seen.push(record);
    if (index >= 0 && passed[index]! < (rules[index]!.after ?? 0)) {
      passed[index]!++;
      record.fault = undefined;
      forward(req, res);
      return;
    }
    if (index < 0) {
      forward(req, res);
      return;
    }
    remaining[index]!--;
    fired[index]!++;
    const action = rules[index]!.action;
    switch (action.kind) {
      case 'status':
        req.resume();
        req.on('end', () => {
          res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
          res.end(action.body ?? JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `injected ${action.status}` }] }));
        });
        return;
      case 'stall':
        setTimeout(() => (req.socket.destroyed ? req.resume() : forward(req, res)), action.ms);
        return;
      case 'hold': {
        const go = () => (req.socket.destroyed ? req.resume() : forward(req, res));
        void action.until.then(go, go);
        action.onHeld?.();
        return;
      }
      case 'around':
        req.pause();
        void action.before().then(
          () => forward(req, res, undefined, undefined, action.after),
          () => res.destroy(),
        );
        return;
      case 'redirect':
        req.resume();
        req.on('end', () => {
          res.writeHead(action.status, { location: action.location(url) });
          res.end();
        });
        return;
      case 'drip':
      case 'endless':
        req.resume();
        req.on('end', () => {
          record.bodyBytesSent = 0;
          res.writeHead(action.status, { 'content-type': 'application/json', ...(action.kind === 'endless' ? action.headers : {}) });
          if (action.kind === 'drip') {
            const timer = setInterval(() => {
              if (res.destroyed) return clearInterval(timer);
              res.write('{');
              record.bodyBytesSent!++;
            }, action.intervalMs);
            res.on('close', () => clearInterval(timer));
            return;
          }
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) record.bodyBytesSent! += chunk.length;
            if (!res.destroyed) {
              record.bodyBytesSent! += chunk.length;
              res.once('drain', pump);
            }
          };
          pump();
        });
        return;
      case 'drop-request':
        forward(req, res, action.afterBytes);
        return;
      case 'drop-response':
        forward(req, res, undefined, action.afterBytes);
        return;
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function forward(req: IncomingMessage, res: ServerResponse, dropRequestAfter?: number, dropResponseAfter?: number, beforeAnswer?: () => Promise<void>) {
    const upstream = httpRequest({
      host: targetName,
      port: targetPort,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    forwarding++;
    upstream.on('close', () => forwarding--);
    // A client gone before its exchange ended (a killed CLI mid-upload) cuts the registry's side too, as a dropped
    // connection would: piped on, the upstream request would wait for the rest of its body for ever, and idle() too.
    req.on('close', () => void (req.complete || upstream.destroy()));
    res.on('close', () => void (res.writableFinished || upstream.destroy()));
    upstream.on('error', () => res.destroy());
    upstream.on('response', (up) => {
      if (beforeAnswer) {
        up.pause();
        const answer = () => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.resume();
        };
        void beforeAnswer().then(answer, () => res.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (dropResponseAfter === undefined) {
        up.pipe(res);
        return;
      }
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        const room = dropResponseAfter - sent;
        if (room <= 0) return;
        res.write(chunk.subarray(0, room));
        sent += Math.min(room, chunk.length);
        if (sent >= dropResponseAfter) {
          up.destroy();
          res.socket?.destroy();
        }
      });
      up.on('end', () => res.end());
    });
    if (dropRequestAfter === undefined) {
      req.pipe(upstream);
      return;
    }
    let got = 0;
    req.on('data', (chunk: Buffer) => {
      const room = dropRequestAfter - got;
      if (room > 0) upstream.write(chunk.subarray(0, room));
      got += chunk.length;
      if (got >= dropRequestAfter) {
        req.pause();
        // Cut the registry's side too, as a dropped connection would, then the client's.
        upstream.destroy();
        req.socket.destroy();
      }
    });
    req.on('end', () => upstream.end());
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `http://${proxy.host}`;
  return proxy;
}

function splitHost(host: string): [string, number] {
  const i = host.lastIndexOf(':');
  return [host.slice(0, i), Number(host.slice(i + 1))];
}
