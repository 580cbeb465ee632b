// What `build --sbom --sign` reads and makes again, counted at the registry (a proxy's log of requests) and in the
// state folder (strace's log of the layer lists the document is made from). Up to stop 47:
// - after an upgrade, the SBOM an earlier gamelayer attached was downloaded whole to read its first 64 KiB, and the
//   document made twice (this version's, then the earlier one's, every source or layer list read again);
// - the first signed build over the SBOM an unsigned build of this host attached made the document again;
// - a forged SBOM signed by hand had its `.sig` read twice (as a build's signature, then as any) and its artifact
//   manifest twice (judged, then replaced);
// - after an upgrade, every no-op signed build read every signature payload again (the version in the payload).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { forgeSbom, sha256 } from './support/sbom-forge.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame, writeTree } from './support/trees.js';
import { upgradedCli } from './support/upgraded-cli.js';

const fx = useSigningFixture('gl-sbom-sign-reads-');
const net = useRegistryBehindFaultProxy();
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
let upgraded = '';
let key = '';

beforeAll(async () => {
  upgraded = await upgradedCli(path.join(fx.root, 'upgraded'), '99.0.0');
  key = path.join(fx.root, 'key.pem');
});

/** `args` run by `cli` in `dir`; the requests it sent through the proxy and how often it opened a layer list of the SBOM cache. */
async function counted(dir: string, args: string[], cli?: string) {
  const trace = path.join(dir, `strace-${Date.now()}.log`);
  const before = net.proxy.seen.length;
  const r = await runCli(args, { cwd: dir, cli, prefix: ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', trace] });
  expect(r.code, r.stderr).toBe(0);
  const layerListOpens = (await readFile(trace, 'utf8')).split('\n').filter((l) => l.includes('/cache/layer-files/') && !l.includes('ENOENT')).length;
  return { ...r, seen: net.proxy.seen.slice(before), layerListOpens };
}

/**
 * The sample game in `<root>/<folder>`, to be pushed through the proxy to `studio/<folder>`; `extra` more small files
 * (800: a document well over the 64 KiB its version is read from).
 */
async function game(folder: string, extra = 0) {
  const dir = path.join(fx.root, folder);
  await writeGame(dir);
  await writeTree(path.join(dir, 'app-media'), Object.fromEntries(Array.from({ length: extra }, (_, i) => [`extra/file-${String(i).padStart(3, '0')}.txt`, `${i}\n`])));
  const name = `studio/${folder}`;
  return { dir, name, repo: `${net.proxy.host}/${name}` };
}

async function build(dir: string, args: string[], cli?: string) {
  const r = await runCli(['build', '-t', 'v1', ...args], { cwd: dir, cli });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** The SBOM artifact listed for `tag`'s image in `name` and its document's blob, read from the registry directly. */
async function attachedSbom(name: string, tag: string): Promise<{ artifact: string; layer: { digest: string; size: number } }> {
  const v2 = `${net.registry.url}/v2/${name}`;
  const image = (await fetch(`${v2}/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
  const index = (await (await fetch(`${v2}/manifests/${image.replace(':', '-')}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string }[] };
  expect(index.manifests).toHaveLength(1);
  const artifact = index.manifests[0]!.digest;
  const m = (await (await fetch(`${v2}/manifests/${artifact}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string; size: number }[] };
  return { artifact, layer: m.layers[0]! };
}

describe('build --sbom --sign after an upgrade, over the SBOM the earlier gamelayer attached', () => {
  it('reads its first 64 KiB with a ranged GET and makes the document once', async () => {
    const { dir, name, repo } = await game('upgrade', 800);
    await build(dir, ['--push', repo, '--sbom']);
    const earlier = await attachedSbom(name, 'v1');
    expect(earlier.layer.size).toBeGreaterThan(2 * 64 * 1024);

    // What one document costs the upgraded gamelayer: the same image into a repository without an SBOM.
    const once = await counted(dir, ['build', '-t', 'v1', '--push', `${net.proxy.host}/studio/upgrade-once`, '--sbom'], upgraded);
    expect(once.layerListOpens).toBeGreaterThan(0);

    const signed = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], upgraded);
    expect(signed.stdout).toContain(`SBOM ${earlier.artifact}`);
    expect(signed.stdout).toContain('(already attached)');
    expect((await attachedSbom(name, 'v1')).artifact).toBe(earlier.artifact);
    expect(signed.layerListOpens).toBe(once.layerListOpens);
    const reads = signed.seen.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${earlier.layer.digest}`));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.map((q) => q.headers?.range)).toEqual(reads.map(() => 'bytes=0-65535'));
  });

  it('still reuses it when the registry ignores the range and sends the whole blob', async () => {
    const { dir, name, repo } = await game('upgrade-no-range', 800);
    await build(dir, ['--push', repo, '--sbom']);
    const earlier = await attachedSbom(name, 'v1');
    const whole = await (await fetch(`${net.registry.url}/v2/${name}/blobs/${earlier.layer.digest}`)).text();
    net.proxy.setRules([{ method: 'GET', path: new RegExp(`/blobs/${earlier.layer.digest}$`), count: 100, action: { kind: 'status', status: 200, headers: { 'content-type': 'application/octet-stream' }, body: whole } }]);
    const signed = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], upgraded);
    const fired = net.proxy.fired[0];
    net.proxy.setRules([]);
    expect(fired).toBeGreaterThan(0);
    expect(signed.stdout).toContain(`SBOM ${earlier.artifact}`);
    expect(signed.stdout).toContain('(already attached)');
  });
});

describe('build --sbom --sign over the SBOM an unsigned build of this host attached', () => {
  it('takes it as the document it made, without making it again, and signs it', async () => {
    const { dir, name, repo } = await game('unsigned-first');
    await build(dir, ['--push', repo, '--sbom']);
    const attached = await attachedSbom(name, 'v1');
    const signed = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key]);
    expect(signed.stdout).toContain(`SBOM ${attached.artifact}`);
    expect(signed.stdout).toContain('(already attached)');
    expect(signed.layerListOpens).toBe(0);
    expect(signed.seen.filter((q) => q.method === 'GET' && q.path.endsWith(`/blobs/${attached.layer.digest}`))).toEqual([]);
    // Signed as a build's: the next signed build takes it on that signature.
    const verified = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);
    const noop = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key]);
    expect(noop.stdout).toContain('signatures: 0 new');
  });
});

describe('build --sbom --sign over a forged SBOM signed by hand', () => {
  it('reads its signatures and its artifact manifest once to judge it', async () => {
    const { dir, name, repo } = await game('hand-signed');
    await build(dir, ['--push', repo, '--sbom', '--sign', key]);
    const { ours, forged, putIndex } = await forgeSbom(net.registry.url, name, 'v1');
    expect((await putIndex([{ ...ours, digest: sha256(forged), size: forged.length }])).status).toBe(201);
    const byHand = await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir });
    expect(byHand.code, byHand.stderr).toBe(0);

    const rebuilt = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key]);
    expect(rebuilt.stdout).toContain(`it replaces ${sha256(forged)}`);
    expect(rebuilt.stderr).toContain(`warning: SBOM ${sha256(forged)} was signed by this key with gamelayer sign, not by a build`);
    const gets = (p: string) => rebuilt.seen.filter((q) => q.method === 'GET' && q.path === `/v2/${name}/manifests/${p}`).length;
    // The artifact: read once (judged, then replaced); its `.sig`: read once to judge it, once more by its removal.
    expect(gets(sha256(forged))).toBe(1);
    expect(gets(`${sha256(forged).replace(':', '-')}.sig`)).toBe(2);
    const tags = ((await (await fetch(`${net.registry.url}/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags;
    expect(tags).not.toContain(`${sha256(forged).replace(':', '-')}.sig`);
  });
});

describe('a no-op build --sbom --sign after an upgrade', () => {
  it('reads no signature payload: the payload gamelayer writes names no version', async () => {
    const { dir, name, repo } = await game('payloads');
    await build(dir, ['--push', repo, '--sbom', '--sign', key]);
    const v2 = `${net.registry.url}/v2/${name}`;
    const sigs = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.filter((t) => t.endsWith('.sig'));
    expect(sigs.length).toBeGreaterThan(1);
    const payloads = new Set<string>();
    for (const t of sigs) {
      const m = (await (await fetch(`${v2}/manifests/${t}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string }[] };
      for (const l of m.layers) payloads.add(l.digest);
    }
    for (const run of [1, 2]) {
      const noop = await counted(dir, ['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], upgraded);
      expect(noop.stdout, `run ${run}`).toContain('signatures: 0 new');
      const read = noop.seen.filter((q) => q.method === 'GET' && [...payloads].some((d) => q.path.endsWith(`/blobs/${d}`)));
      expect(read.map((q) => q.path), `run ${run}`).toEqual([]);
    }
  });
});
