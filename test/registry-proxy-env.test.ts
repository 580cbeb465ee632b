// HTTPS_PROXY / HTTP_PROXY / NO_PROXY as a build host behind a studio's proxy has them (a CodeBuild VPC without a
// NAT): the registry, its token server and the AWS APIs (ECR here) are reached through the proxy, https through a
// CONNECT tunnel, plain http in absolute form, with the proxy's credentials from its URL; loopback and NO_PROXY
// go direct. gamelayer ignored these variables and connected directly, so behind a proxy nothing could be pushed.
// The registry's host names here are known to no resolver: only the proxy (test/support/connect-proxy.ts) can
// reach them, on 127.0.0.1, behind a TLS front whose certificate the CLI trusts through NODE_EXTRA_CA_CERTS.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyFor } from '../src/util/proxy.js';
import { runCli } from './support/cli-process.js';
import { startConnectProxy, startTlsFront, type ConnectProxy } from './support/connect-proxy.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let game: string;
let reg: TestRegistry;
let ecr: FakeEcr;
let proxy: ConnectProxy;
const fronts: { port: number; stop(): Promise<void> }[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-proxy-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(root, 'key.pem'), '-out', path.join(root, 'cert.pem'), '-days', '2', '-subj', '/CN=gamelayer-test', '-addext', 'subjectAltName=DNS:registry.gamelayer-test,DNS:ecr.gamelayer-test'], { stdio: 'ignore' });
  // Relative upload locations: the registries speak plain HTTP behind a TLS front that adds no X-Forwarded-Proto.
  [reg, ecr, proxy] = await Promise.all([startRegistry({ relativeUrls: true }), startFakeEcr({ relativeUrls: true }), startConnectProxy({ user: 'builder', password: 'Proxy-Pw-7171' })]);
  const [key, cert] = await Promise.all([readFile(path.join(root, 'key.pem'), 'utf8'), readFile(path.join(root, 'cert.pem'), 'utf8')]);
  for (const host of [reg.host, ecr.host, new URL(ecr.endpoint).host]) fronts.push(await startTlsFront(Number(host.split(':')[1]), key, cert));
  game = path.join(root, 'game');
  await writeGame(game);
  env = { HOME: root, NODE_EXTRA_CA_CERTS: path.join(root, 'cert.pem'), HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: '', no_proxy: '' };
});
afterAll(async () => {
  await Promise.all([reg?.stop(), ecr?.stop(), proxy?.stop(), ...fronts.map((f) => f.stop())]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a registry behind HTTPS_PROXY', () => {
  it('build --push to an https registry goes through a CONNECT tunnel with the proxy credentials', async () => {
    const repo = `registry.gamelayer-test:${fronts[0]!.port}/studio/game`;
    const r = await runCli(['build', '-t', 'v1', '--push', repo], { cwd: game, env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(proxy.seen).toContain(`CONNECT registry.gamelayer-test:${fronts[0]!.port}`);
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/game'))).toContain('v1');
    expect(r.stdout + r.stderr).not.toContain('Proxy-Pw-7171');
  });

  it('plain http (--insecure) goes to the proxy in absolute form', async () => {
    const before = proxy.seen.length;
    const repo = `registry.gamelayer-test:${reg.host.split(':')[1]}/studio/plain`;
    const r = await runCli(['push', `${repo}:v1`, '--insecure'], { cwd: game, env });
    expect(r.code).toBe(0);
    expect(proxy.seen.slice(before)).toContain(`HEAD http://${repo.replace('/studio', '/v2/studio')}/manifests/v1`);
  });

  it('ECR: the ECR API (SDK) and the registry both through the proxy', async () => {
    const before = proxy.seen.length;
    const repo = `registry.gamelayer-test:${fronts[1]!.port}/studio/ecr`;
    const endpoint = `https://ecr.gamelayer-test:${fronts[2]!.port}`;
    const aws = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' };
    const r = await runCli(['push', `${repo}:v1`, '--ecr', '--region', 'eu-west-1', '--endpoint', endpoint, '--create-repo'], { cwd: game, env: { ...env, ...aws } });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(proxy.seen.slice(before)).toEqual(expect.arrayContaining([`CONNECT ecr.gamelayer-test:${fronts[2]!.port}`, `CONNECT registry.gamelayer-test:${fronts[1]!.port}`]));
    expect(ecr.calls.map((c) => c.op)).toContain('GetAuthorizationToken');
    expect(ecr.rejected).toEqual([]);
  });

  it('wrong proxy credentials: registry.proxy names the proxy and its 407, never the password', async () => {
    const bad = proxy.url.replace('Proxy-Pw-7171', 'Wrong-Pw-8282');
    const r = await runCli(['push', `registry.gamelayer-test:${fronts[0]!.port}/studio/game:v1`], { cwd: game, env: { ...env, HTTPS_PROXY: bad } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[registry\.proxy\]: .*the proxy 127\.0\.0\.1:\d+ answered CONNECT registry\.gamelayer-test:\d+ with HTTP 407/);
    expect(r.stderr).toContain('hint: check HTTPS_PROXY / HTTP_PROXY, or list the registry in NO_PROXY');
    expect(r.stdout + r.stderr).not.toMatch(/Wrong-Pw-8282|Proxy-Pw-7171/);
  });

  it('loopback never goes through the proxy', async () => {
    const before = proxy.seen.length;
    const r = await runCli(['push', `${reg.host}/studio/direct:v1`], { cwd: game, env: { ...env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(0);
    expect(proxy.seen.length).toBe(before);
  });
});

describe('proxyFor', () => {
  const env = { HTTPS_PROXY: 'http://proxy.corp:3128', http_proxy: 'proxy.corp:8080' };
  const via = (url: string, noProxy?: string) => proxyFor(new URL(url), { ...env, ...(noProxy !== undefined ? { NO_PROXY: noProxy } : {}) })?.href;
  it('picks HTTPS_PROXY for https and http_proxy (scheme added) for http', () => {
    expect(via('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/')).toBe('http://proxy.corp:3128/');
    expect(via('http://registry.corp:5000/v2/')).toBe('http://proxy.corp:8080/');
  });
  it('NO_PROXY: domains with or without a leading dot or *., hosts with a port, CIDR ranges, *', () => {
    expect(via('https://a.amazonaws.com/', '.amazonaws.com')).toBeUndefined();
    expect(via('https://a.amazonaws.com/', 'amazonaws.com')).toBeUndefined();
    expect(via('https://a.amazonaws.com/', '*.amazonaws.com')).toBeUndefined();
    expect(via('https://notamazonaws.com/', 'amazonaws.com')).toBe('http://proxy.corp:3128/');
    expect(via('https://registry.corp:5000/', 'registry.corp:5000')).toBeUndefined();
    expect(via('https://registry.corp/', 'registry.corp:5000')).toBe('http://proxy.corp:3128/');
    expect(via('https://10.1.2.3/', '10.0.0.0/8')).toBeUndefined();
    expect(via('https://11.1.2.3/', '10.0.0.0/8')).toBe('http://proxy.corp:3128/');
    expect(via('https://anything/', '*')).toBeUndefined();
  });
  it('loopback is always direct', () => {
    for (const u of ['https://127.0.0.1:5000/', 'http://localhost:5000/', 'https://[::1]:5000/']) expect(via(u)).toBeUndefined();
  });
  it('an https:// or socks proxy is refused with a hint', () => {
    expect(() => proxyFor(new URL('https://r/'), { HTTPS_PROXY: 'socks5://p:1080' })).toThrow(/socks5 proxy, which gamelayer does not speak/);
  });
});
