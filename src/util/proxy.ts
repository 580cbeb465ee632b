// HTTP(S)_PROXY / NO_PROXY, read as Docker and Go's net/http read them: HTTPS_PROXY for https, HTTP_PROXY for http
// (upper or lower case), NO_PROXY a comma list of hosts, domains (`.example.com`, `example.com`, `*.example.com` match
// the domain and its subdomains), IPs or CIDR ranges, each with an optional port, or `*` for none. Loopback
// (localhost, 127.0.0.0/8, ::1) never goes through a proxy. An https target is reached through an HTTP CONNECT
// tunnel, a plain-http one by sending its absolute URL to the proxy; `user:password@` in the proxy URL becomes
// Proxy-Authorization. Build hosts behind a studio's proxy (a CodeBuild VPC without a NAT) need this for the
// registry and the AWS APIs alike.
import net from 'node:net';
import { GamelayerError } from '../errors.js';

/** The proxy for `url`, or undefined to connect directly. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const https = url.protocol === 'https:';
  const raw = (https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy)?.trim();
  if (!raw) return undefined;
  const host = bareHost(url.hostname);
  const port = url.port || (https ? '443' : '80');
  if (isLoopback(host) || bypassed(host, port, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  return parseProxy(raw, https ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}

/** Proxy-Authorization for a proxy URL with `user:password@`, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The proxy's `host:port`, for messages (never its credentials). */
export function proxyName(proxy: URL): string {
  return `${proxy.hostname}:${proxy.port || '80'}`;
}

function parseProxy(raw: string, name: string): URL {
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new GamelayerError('registry.proxy', `${name} is not a URL`, 'expected e.g. http://proxy.example.com:3128 (or unset it)');
  }
  if (proxy.protocol !== 'http:') {
    throw new GamelayerError('registry.proxy', `${name}: a ${proxy.protocol.replace(/:$/, '')} proxy, which gamelayer does not speak`, 'use an http:// proxy (it tunnels https with CONNECT)');
  }
  return proxy;
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function bypassed(host: string, port: string, noProxy: string): boolean {
  for (const item of noProxy.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (item === '*') return true;
    const [entry, entryPort] = splitPort(item);
    if (entryPort && entryPort !== port) continue;
    if (entry.includes('/')) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    const domain = entry.replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** `host:port`, `[v6]:port`, `v6`, `host` → [host, port?]. */
function splitPort(item: string): [string, string | undefined] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
  if (v6) return [v6[1]!, v6[2]];
  const m = /^([^:]+):(\d+)$/.exec(item);
  return m ? [m[1]!, m[2]] : [item, undefined];
}

function inCidr(host: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const family = net.isIP(base ?? '');
  if (!family || net.isIP(host) !== family) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
