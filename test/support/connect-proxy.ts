// A forward HTTP proxy on 127.0.0.1 as a studio's (squid's) would be: CONNECT tunnels for https and absolute-form
// requests for plain http, with optional Basic proxy credentials (407 otherwise). Every name it is asked for is
// reached on 127.0.0.1 at the asked port, so a test can use host names no resolver knows: a client can reach them
// only through this proxy. It records what it was asked.
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT` (with `user:password@` when credentials are required). */
  url: string;
  /** `CONNECT host:port` and `GET http://…` lines, in order. */
  seen: string[];
  stop(): Promise<void>;
}

export async function startConnectProxy(opts: { user?: string; password?: string } = {}): Promise<ConnectProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const expected = opts.user ? `Basic ${Buffer.from(`${opts.user}:${opts.password ?? ''}`).toString('base64')}` : undefined;
  const allowed = (auth: string | undefined) => !expected || auth === expected;
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (!allowed(req.headers['proxy-authorization'])) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const target = new URL(req.url ?? '/');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = httpRequest({ host: '127.0.0.1', port: Number(target.port || 80), path: `${target.pathname}${target.search}`, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (!allowed(req.headers['proxy-authorization'])) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const port = Number(/:(\d+)$/.exec(req.url ?? '')?.[1] ?? 443);
    const up = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cred = opts.user ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password ?? '')}@` : '';
  return {
    url: `http://${cred}127.0.0.1:${port}`,
    seen,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TLS front on 127.0.0.1 for a plain-HTTP server at `backendPort`, with the given certificate. */
export async function startTlsFront(backendPort: number, key: string, cert: string): Promise<{ port: number; stop(): Promise<void> }> {
  const { createServer: createTlsServer } = await import('node:tls');
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert }, (client) => {
    const up = connect(backendPort, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(up);
    up.pipe(client);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
