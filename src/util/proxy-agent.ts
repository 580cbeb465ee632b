// The https agent that goes through HTTPS_PROXY (util/proxy.ts says which proxy, if any), in a module of its own:
// node:https and node:tls load with it, and a run that talks plain http alone (a loopback registry's no-op) has no
// use for either (about 2.5 ms of a start, issue 17).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { proxyAuthorization, proxyFor, proxyName } from './proxy.js';

type CreateCallback = (err: Error | null, socket: Duplex) => void;

/**
 * An https agent that opens each connection through the proxy `proxyFor` names for its host (a CONNECT tunnel,
 * then TLS to the target inside it), or directly. Keep-alive pools per target as usual.
 */
export class EnvProxyHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    super(options);
  }

  override createConnection(args: http.ClientRequestArgs, callback?: CreateCallback): Duplex | null | undefined {
    const options = args as tls.ConnectionOptions & { host?: string; port?: number };
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const target = new URL(`https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`);
    let proxy: URL | undefined;
    try {
      proxy = proxyFor(target, this.env);
    } catch (e) {
      callback?.(e as Error, undefined as unknown as Duplex);
      return undefined;
    }
    // No proxy: what https.Agent does (its TLS session cache included).
    if (!proxy) return super.createConnection(args, callback);
    const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { host: authority };
    const auth = proxyAuthorization(proxy);
    if (auth) headers['proxy-authorization'] = auth;
    const connect = http.request({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80), method: 'CONNECT', path: authority, headers, agent: false });
    let done = false;
    const finish = (err: Error | null, socket?: Duplex) => {
      if (done) return;
      done = true;
      callback?.(err, socket as Duplex);
    };
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        finish(Object.assign(new Error(`the proxy ${proxyName(proxy)} answered CONNECT ${authority} with HTTP ${res.statusCode}${res.statusCode === 407 ? ' (proxy authentication required: put user:password@ in HTTPS_PROXY)' : ''}`), { code: 'EPROXY' }));
        return;
      }
      const secure = tls.connect({ ...options, socket, servername: options.servername ?? (net.isIP(host) ? undefined : host) });
      secure.once('secureConnect', () => finish(null, secure));
      secure.once('error', (e) => finish(e));
    });
    connect.once('error', (e) => finish(Object.assign(new Error(`cannot reach the proxy ${proxyName(proxy)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`), { code: 'EPROXY' })));
    connect.end();
    return undefined;
  }
}

/** The https agent of an AWS SDK client (ECR, KMS, CodeBuild): through HTTPS_PROXY unless NO_PROXY or loopback. */
export function awsHttpsAgent(): https.Agent {
  return new EnvProxyHttpsAgent({ keepAlive: true, maxSockets: 50 });
}
