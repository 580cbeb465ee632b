// build --push --sbom against a real registry (distribution 2.8: no referrers API, so the referrers tag schema),
// read back by `gamelayer sbom`, checked by the CycloneDX schema, by skopeo (the referrers tag index) and by
// sha256sum over the image unpacked with umoci.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetchSbom } from '../src/sbom/attach.js';
import { validateSbom } from '../src/sbom/cyclonedx.js';
import { runCli } from './support/cli-process.js';
import { startReferrersFront } from './support/referrers-front.js';
import { readStoredBlob, startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

interface FileComponent {
  name: string;
  hashes: { alg: string; content: string }[];
  properties: { name: string; value: string }[];
}
interface TreeComponent {
  name: string;
  properties: { name: string; value: string }[];
  components?: FileComponent[];
}

async function cli(args: string[], cwd: string) {
  const r = await runCli(args, { cwd });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const prop = (c: { properties: { name: string; value: string }[] }, name: string) => c.properties.find((p) => p.name === name)?.value;

describe('SBOM', () => {
  // The sample pushed once with its SBOM: what the tests that only read it (or tamper with its blob and put it back)
  // look at. Tests that build again, change the sample or need another registry make their own.
  let shared: { dir: string; repo: string; built: ReturnType<typeof JSON.parse> };
  beforeAll(async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/sbom`;
    shared = { dir, repo, built: JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], dir)) };
  }, 300_000);

  it('build --push --sbom attaches a CycloneDX SBOM whose file hashes match sha256sum of the image unpacked by umoci', async () => {
    const { dir, repo, built } = shared;
    const server = built.images.find((i: { name: string }) => i.name === 'server');
    expect(built.supplyChain.sbom).toMatchObject({ upToDate: false, via: 'tag' });
    expect(built.supplyChain.sbom.bytes).toBeGreaterThan(1000);

    // The referrers tag schema, as an independent client sees it: an index under sha256-<hex> listing the SBOM.
    const tagIndex = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:${server.digest.replace(':', '-')}`]).toString());
    expect(tagIndex.manifests).toContainEqual(expect.objectContaining({ digest: built.supplyChain.sbom.digest, artifactType: 'application/vnd.cyclonedx+json' }));
    const artifact = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}@${built.supplyChain.sbom.digest}`]).toString());
    expect(artifact.subject.digest).toBe(server.digest);

    const text = await cli(['sbom', `${repo}:v1`], dir);
    await validateSbom(text, 'the fetched SBOM'); // throws when invalid
    expect(await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(text)).toBeNull();
    const bom = JSON.parse(text);
    expect(bom.metadata.tools.components[0]).toMatchObject({ name: 'gamelayer', version: JSON.parse(await readFile('package.json', 'utf8')).version });
    expect(prop(bom.metadata.component, 'dev.gamelayer:image.digest')).toBe(server.digest);
    expect(bom.components.find((c: { type: string }) => c.type === 'container')).toMatchObject({ name: 'scratch' });
    const trees: TreeComponent[] = bom.components.filter((c: { type: string }) => c.type === 'application');
    expect(trees.map((t) => t.name).sort()).toEqual(['app', 'app-media', 'engine', 'engine-media']);

    // The record lists every file of every tree: the SBOM has each one with its size.
    const record = JSON.parse(await readFile(path.join(dir, built.record), 'utf8').catch(() => readFile(built.record, 'utf8')));
    const recordFiles = record.manifests.flatMap((m: { tree: string; entries: { path: string; type: string; size: number }[] }) =>
      m.entries.filter((e) => e.type === 'file').map((e) => `${m.tree}:${e.path}:${e.size}`),
    );
    const sbomFiles = trees.flatMap((t) => (t.components ?? []).map((f) => `${t.name}:${f.name}:${prop(f, 'dev.gamelayer:size')}`));
    expect(sbomFiles.sort()).toEqual(recordFiles.sort());

    // Independent: skopeo copies the image into an OCI layout, umoci unpacks it, sha256sum hashes every file.
    const work = await tempDir();
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${repo}:v1`, `oci:${work}/layout:v1`], { stdio: 'ignore' });
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${work}/layout:v1`, `${work}/bundle`], { stdio: 'ignore' });
    const rootfs = `${work}/bundle/rootfs`;
    const expected = new Map<string, string>();
    for (const t of trees) {
      const mount = prop(t, 'dev.gamelayer:mount')!.replace(/^\/+|\/+$/g, '');
      for (const f of t.components ?? []) expected.set(`${mount}/${f.name}`, f.hashes.find((h) => h.alg === 'SHA-256')!.content);
    }
    const sums = execFileSync('sh', ['-c', 'cd "$1" && find . -type f ! -name .gamelayer-tree -print0 | xargs -0 sha256sum', 'sh', rootfs], { maxBuffer: 64 << 20 })
      .toString()
      .trim()
      .split('\n')
      .map((l) => [l.slice(66).replace(/^\.\//, ''), l.slice(0, 64)] as const);
    expect(sums.length).toBe(expected.size);
    expect(new Map(sums)).toEqual(expected);
  }, 300_000);

  it('a no-op build sends nothing new; a small change sends a new SBOM (its size reported) naming the new hash', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/sbom-noop`;
    await cli(['build', '--push', repo, '--tag', 'v1', '--sbom'], dir);

    await registry.resetAccessLog();
    const again = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], dir));
    expect(again.supplyChain.sbom).toMatchObject({ upToDate: true, bytesSent: 0 });
    const writes = (await registry.accessLog()).filter((e) => e.method !== 'GET' && e.method !== 'HEAD');
    expect(writes.filter((e) => !e.path.includes('gamelayer-record') && !/\/blobs\/uploads\//.test(e.path))).toEqual([]);
    expect(writes.filter((e) => /\/blobs\/uploads\//.test(e.path) || /manifests\/sha256-/.test(e.path))).toEqual([]);

    const cfg = path.join(dir, 'app/config/server.cfg');
    const changed = `${await readFile(cfg, 'utf8')}# tuned\n`;
    await writeFile(cfg, changed);
    const v2 = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v2', '--sbom', '--json'], dir));
    expect(v2.supplyChain.sbom.upToDate).toBe(false);
    expect(v2.supplyChain.sbom.bytes).toBeGreaterThan(0);
    expect(v2.supplyChain.sbom.bytesSent).toBeGreaterThanOrEqual(v2.supplyChain.sbom.bytes);
    const bom = JSON.parse(await cli(['sbom', `${repo}:v2`], dir));
    const app = bom.components.find((c: TreeComponent & { type: string }) => c.type === 'application' && c.name === 'app') as TreeComponent;
    const file = app.components!.find((f) => f.name === 'config/server.cfg')!;
    expect(file.hashes[0]!.content).toBe(execFileSync('sha256sum', [cfg]).toString().slice(0, 64));
    expect(prop(file, 'dev.gamelayer:size')).toBe(String(Buffer.byteLength(changed)));
    // v1's SBOM is still the one of v1.
    const old = JSON.parse(await cli(['sbom', `${repo}:v1`], dir));
    expect(prop(old.metadata.component, 'dev.gamelayer:image.digest')).not.toBe(prop(bom.metadata.component, 'dev.gamelayer:image.digest'));
  }, 300_000);

  it('the same content under a new tag reuses the SBOM attached to the image: no SBOM blob, artifact or referrers index sent', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/sbom-retag`;
    const v1 = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], dir));
    // The layers' file hashes cached by the first SBOM: an SBOM made again would hash the layers again.
    const hashes = path.join(dir, '.gamelayer', 'cache', 'layer-files');
    expect(existsSync(hashes)).toBe(true);
    await rm(hashes, { recursive: true });

    await registry.resetAccessLog();
    const v2 = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v2', '--sbom', '--json'], dir));
    const server = (r: { images: { name: string; digest: string }[] }) => r.images.find((i) => i.name === 'server')!.digest;
    expect(server(v2)).toBe(server(v1));
    expect(v2.supplyChain.sbom).toMatchObject({ digest: v1.supplyChain.sbom.digest, upToDate: true, bytesSent: 0, files: v1.supplyChain.sbom.files, bytes: v1.supplyChain.sbom.bytes });
    const writes = (await registry.accessLog()).filter((e) => e.method !== 'GET' && e.method !== 'HEAD');
    // Only the new tags' manifests (and the build record's, which names its tags) go up.
    const sbomDigest = v1.supplyChain.sbom.digest as string;
    expect(writes.filter((e) => e.path.includes(sbomDigest) || /manifests\/sha256-/.test(e.path))).toEqual([]);
    const uploads = writes.filter((e) => /\/blobs\/uploads\/.*digest=/.test(e.path)).map((e) => decodeURIComponent(/digest=([^&]+)/.exec(e.path)![1]!));
    const artifact = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}@${sbomDigest}`]).toString());
    expect(uploads).not.toContain(artifact.layers[0].digest);
    expect(existsSync(hashes)).toBe(false); // not made again: reused by its key
    // Both tags read the one SBOM, which names the image, not a tag.
    const text = await cli(['sbom', `${repo}:v2`], dir);
    expect(text).toBe(await cli(['sbom', `${repo}:v1`], dir));
    expect(text).not.toContain('dev.gamelayer:tag');
  }, 300_000);

  it('an image without an SBOM, and an SBOM that breaks the schema, are clear errors', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/nosbom`;
    await cli(['build', '--push', repo, '--tag', 'v1'], dir);
    const r = await runCli(['sbom', `${repo}:v1`], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no SBOM attached');
    expect(r.stderr).toContain('--sbom');

    const bad = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'file', name: 'x', hashes: [{ alg: 'SHA-256', content: 'nothex' }] }] });
    await expect(validateSbom(bad, 'test.json')).rejects.toMatchObject({ code: 'sbom.invalid', message: expect.stringContaining('test.json') });
  }, 300_000);

  it('gamelayer sbom prints the stored bytes as they are, and refuses a blob whose bytes do not match its digest, printing nothing of it', async () => {
    const { dir, repo, built } = shared;
    const artifact = JSON.parse((await readStoredBlob(registry.storageDir, built.supplyChain.sbom.digest))!.toString('utf8'));
    const blob = artifact.layers[0].digest as string;
    const stored = (await readStoredBlob(registry.storageDir, blob))!;
    const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    const printed = await runCli(['sbom', `${repo}:v1`], { cwd: dir });
    expect(printed.code).toBe(0);
    expect(sha256(printed.stdout)).toBe(sha256(`${stored.toString('utf8')}\n`));
    const copy = path.join(dir, 'copy.json');
    await cli(['sbom', `${repo}:v1`, '-o', copy], dir);
    expect(sha256(await readFile(copy))).toBe(sha256(stored));

    // The same length, still JSON, one file's name changed: the registry serves it as it is.
    const text = stored.toString('utf8');
    const at = text.indexOf('"name":"', text.indexOf('"type":"file"')) + '"name":"'.length;
    const tampered = Buffer.from(`${text.slice(0, at)}TAMPERED${text.slice(at + 'TAMPERED'.length)}`);
    expect(tampered.length).toBe(stored.length);
    const hex = blob.slice('sha256:'.length);
    // The registry's blob store is shared by the other tests' repositories (the same sample, the same SBOM): put back after.
    const data = path.join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    await writeFile(data, tampered);
    try {
      const r = await runCli(['sbom', `${repo}:v1`], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`blob ${blob} does not match its digest`);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('TAMPERED');
      const out = path.join(dir, 'sbom.json');
      expect((await runCli(['sbom', `${repo}:v1`, '-o', out], { cwd: dir })).code).toBe(1);
      expect(existsSync(out)).toBe(false);
    } finally {
      await writeFile(data, stored);
    }
  }, 300_000);

  it('a registry with the referrers API lists the SBOM there: no referrers tag is made, gamelayer sbom finds it through the API', async () => {
    const front = await startReferrersFront(registry.host);
    try {
      const dir = await tempDir();
      copySample(dir);
      const repo = `${front.host}/studio/api`;
      const built = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], dir));
      expect(built.supplyChain.sbom.via).toBe('referrers');
      const tags = Object.keys(await storedTags(registry.storageDir, 'studio/api'));
      expect(tags.filter((t) => t.startsWith('sha256-'))).toEqual([]);
      const server = built.images.find((i: { name: string }) => i.name === 'server');
      expect(front.seen).toContainEqual({ method: 'GET', path: `/v2/studio/api/referrers/${server.digest}` });
      const bom = JSON.parse(await cli(['sbom', `${repo}:v1`], dir));
      expect(prop(bom.metadata.component, 'dev.gamelayer:image.digest')).toBe(server.digest);
      // no-op: listed already, nothing put
      const manifestPuts = () => front.seen.filter((s) => s.method === 'PUT' && !s.path.includes('gamelayer-record')).length;
      const puts = manifestPuts();
      const again = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--json'], dir));
      expect(again.supplyChain.sbom).toMatchObject({ upToDate: true, bytesSent: 0, via: 'referrers' });
      expect(manifestPuts()).toBe(puts);
    } finally {
      await front.stop();
    }
  }, 300_000);

  it('gamelayer sbom never parses the SBOM it fetches whole (a 1M-file game\'s is about 270 MB of JSON): a piece at a time', async () => {
    const { repo } = shared;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const found = await fetchSbom(`${repo}:v1`, { insecure: true });
      const size = found.bytes.toString('utf8').length;
      expect(parse.mock.calls.filter((c) => String(c[0]).length === size)).toHaveLength(0);
      // Its file components each parsed on their own (src/sbom/sbom-read.ts).
      expect(parse.mock.calls.filter((c) => String(c[0]).startsWith('{"type":"file"')).length).toBeGreaterThan(10);
    } finally {
      parse.mockRestore();
    }
  });

  it('--sbom without --push is refused before anything is built', async () => {
    const dir = await tempDir();
    copySample(dir);
    const r = await runCli(['build', '--sbom'], { cwd: dir });
    expect(r.code).toBe(2); // cli.needs-push: a usage error
    expect(r.stderr).toContain('error[cli.needs-push]: --sbom goes with --push');
    const docker = await runCli(['build', '--builder', 'docker', '--push', `${registry.host}/studio/x`, '--sign', 'k.pem'], { cwd: dir });
    expect(docker.code).toBe(2);
    expect(docker.stderr).toContain('error[cli.needs-push]: --sign works with the daemonless builder');
  }, 300_000);
});
