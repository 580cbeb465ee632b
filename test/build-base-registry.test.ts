// baseImage from a registry (issue 15.3): a busybox base made as an OCI layout and pushed with skopeo into real
// registries (plain, htpasswd, and the local ECR endpoint). Read with the credentials of a push, resolved per platform
// through its index, pinned by digest in the record, verified, cached in the store; in the target's own registry
// its layers are mounted, never downloaded. A base that moved is reported and our layers are not rebuilt.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { freePort, startRegistry, storageProblems, type TestRegistry } from './support/registry.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let plain: TestRegistry;
let locked: TestRegistry;
let ecr: FakeEcr;
let layout: string;

/**
 * The busybox layout plus a second platform (linux/arm64: same layer, its own config) and an index over both,
 * tagged `multi`: a base reference that must be resolved per platform.
 */
async function multiPlatformLayout(dir: string): Promise<void> {
  await writeBusyboxLayout(dir, { tag: 'busybox' });
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number; mediaType: string }[] };
  const amd = index.manifests[0]!;
  const blob = (d: string) => readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
  const put = async (bytes: Buffer, mediaType: string) => {
    await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
    return { mediaType, digest: sha256(bytes), size: bytes.length };
  };
  const manifest = JSON.parse((await blob(amd.digest)).toString()) as { config: { digest: string }; layers: unknown[] };
  const armConfig = await put(Buffer.from(JSON.stringify({ ...JSON.parse((await blob(manifest.config.digest)).toString()), architecture: 'arm64' })), 'application/vnd.oci.image.config.v1+json');
  const arm = await put(Buffer.from(JSON.stringify({ ...manifest, config: armConfig })), 'application/vnd.oci.image.manifest.v1+json');
  const idx = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...arm, platform: { architecture: 'arm64', os: 'linux' } },
          { mediaType: amd.mediaType, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } },
        ],
      }),
    ),
    'application/vnd.oci.image.index.v1+json',
  );
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...idx, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }),
  );
}

/** The busybox layout with one more label in its config: another image on the same layer. */
async function relabelledLayout(dir: string): Promise<void> {
  await writeBusyboxLayout(dir, { tag: 'busybox' });
  const indexFile = path.join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const blob = (d: string) => readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
  const put = async (bytes: Buffer) => {
    await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const manifest = JSON.parse((await blob(index.manifests[0]!.digest)).toString()) as { config: { digest: string; size: number; mediaType: string } };
  const config = JSON.parse((await blob(manifest.config.digest)).toString()) as { config: { Labels: Record<string, string> } };
  config.config.Labels['base.revision'] = '2';
  const newConfig = await put(Buffer.from(JSON.stringify(config)));
  const newManifest = await put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...newConfig } })));
  await writeFile(indexFile, JSON.stringify({ ...index, manifests: [{ ...index.manifests[0], ...newManifest }] }));
}

/**
 * A hostile (or broken) index: its only entry says linux/amd64 but names the arm64 image of `source` (whose config
 * says linux/arm64), tagged `lying`.
 */
async function lyingIndexLayout(dir: string, source: string): Promise<string> {
  await cp(source, dir, { recursive: true });
  const blob = (d: string) => readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
  const top = (JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!;
  const idx = JSON.parse((await blob(top.digest)).toString()) as { manifests: { digest: string; size: number; mediaType: string; platform: { architecture: string } }[] };
  const arm = idx.manifests.find((m) => m.platform.architecture === 'arm64')!;
  const bytes = Buffer.from(JSON.stringify({ ...idx, manifests: [{ ...arm, platform: { architecture: 'amd64', os: 'linux' } }] }));
  await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
  const lying = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(bytes), size: bytes.length };
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...lying, annotations: { 'org.opencontainers.image.ref.name': 'lying' } }] }));
  return arm.digest;
}

async function skopeoPush(to: string, creds?: string): Promise<void> {
  await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layout}:multi`, `docker://${to}`]);
}

async function game(baseImage: string): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  const file = path.join(dir, 'gamelayer.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('baseImage: scratch', `baseImage: ${baseImage}`));
  return dir;
}

async function gl(cwd: string, args: string[], env: Record<string, string> = {}) {
  return run(BIN, args, { cwd, env: { ...process.env, ...env } });
}

async function glFails(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await gl(cwd, args, env).then(
    () => undefined,
    (e: { stderr: string }) => e.stderr,
  );
  expect(r, `gamelayer ${args.join(' ')} should fail`).toBeDefined();
  return r!;
}

const busyboxLayer = async () => {
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const idx = JSON.parse((await readFile(path.join(layout, 'blobs/sha256', index.manifests[0]!.digest.slice(7)))).toString()) as { manifests: { digest: string; platform: { architecture: string } }[] };
  const amd = idx.manifests.find((m) => m.platform.architecture === 'amd64')!;
  const m = JSON.parse((await readFile(path.join(layout, 'blobs/sha256', amd.digest.slice(7)))).toString()) as { layers: { digest: string; size: number }[] };
  return { manifest: amd.digest, layer: m.layers[0]! };
};

/** A HOME whose docker config logs in to the `locked` registry (as `docker login` leaves it), as env for the CLI. */
async function lockedLogin(): Promise<Record<string, string>> {
  const home = await tempDir();
  await mkdir(path.join(home, '.docker'));
  const u = locked.users[0]!;
  await writeFile(path.join(home, '.docker/config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${u.username}:${u.password}`).toString('base64') } } }));
  return { HOME: home, DOCKER_CONFIG: path.join(home, '.docker') };
}

beforeAll(async () => {
  layout = path.join(await tempDir(), 'busybox');
  await multiPlatformLayout(layout);
  [plain, locked, ecr] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' }), startFakeEcr({ blobMounting: true })]);
  await skopeoPush(`${plain.host}/base/busybox:1`);
  await skopeoPush(`${locked.host}/base/busybox:1`, `${locked.users[0]!.username}:${locked.users[0]!.password}`);
}, 120_000);
afterAll(async () => Promise.all([plain?.stop(), locked?.stop(), ecr?.stop()]));

describe('baseImage from a registry', () => {
  it('in the target registry: resolved for the platform, pinned in the record, its layers mounted (read once, for the folders above the mounts, and kept)', async () => {
    const dir = await game(`${plain.host}/base/busybox:1`);
    const { manifest, layer } = await busyboxLayer();
    await plain.resetAccessLog();
    const out = JSON.parse((await gl(dir, ['build', '--push', `${plain.host}/studio/onbase`, '--tag', 'v1', '--json'])).stdout) as {
      images: { name: string; digest: string }[];
    };
    const log = await plain.accessLog();
    // Read once for the base's folders above the mounts (base-mount-parents.test.ts), and kept in the store as it was
    // read (a registry that cannot mount then gets it from there, ecr-base-layer-once.test.ts); mounted all the same.
    expect(log.filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`))).toHaveLength(1);
    expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(layer.digest)}`) && e.status === 201)).toBe(true);
    expect(existsSync(path.join(dir, '.gamelayer/oci/blobs/sha256', layer.digest.slice(7)))).toBe(true);
    // Known from then on: the next build reads it no more.
    await plain.resetAccessLog();
    await gl(dir, ['build', '--push', `${plain.host}/studio/onbase`, '--tag', 'v1']);
    expect((await plain.accessLog()).filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`))).toEqual([]);
    // A fresh host (no state folder, as a new CodeBuild host) takes them from the registry's record (its
    // `baseFolders` names this base and these mounts): the base is not streamed in every build.
    const fresh = path.join(await tempDir(), 'fresh');
    await cp(dir, fresh, { recursive: true, filter: (src) => path.basename(src) !== '.gamelayer' });
    await plain.resetAccessLog();
    await gl(fresh, ['build', '--push', `${plain.host}/studio/onbase`, '--tag', 'v2']);
    expect((await plain.accessLog()).filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`))).toEqual([]);
    expect(existsSync(path.join(fresh, '.gamelayer/records/build-v2.json'))).toBe(true);

    const record = JSON.parse((await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')).replace(/^[^{]*/, '')) as { bases: unknown[] };
    expect(record.bases).toEqual([{ platform: 'linux/amd64', ref: `${plain.host}/base/busybox:1`, digest: manifest, repository: `${plain.host}/base/busybox`, layers: 1 }]);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${plain.host}/studio/onbase:v1`]).toString()) as { Layers: string[]; Digest: string };
    expect(inspect.Layers[0]).toBe(layer.digest);
    expect(inspect.Digest).toBe(out.images.find((i) => i.name === 'server')!.digest);
    expect(await storageProblems(plain.storageDir)).toEqual([]);

    // The image runs: busybox's sh from the base, the game's files from our layers.
    const ls = execFileSync('docker', ['run', '--rm', '--entrypoint', '/bin/sh', `${plain.host}/studio/onbase:v1-app`, '-c', 'ls /opt/local/app/config'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(ls).toContain('server.cfg');
    removeImagesAfterRun([`${plain.host}/studio/onbase:v1-app`]);

    // The local layout lacks the base layer and says where it is; loading it into Docker fetches it, verified.
    await gl(dir, ['load', '--tag', 'v1', '--no-trees']);
    expect(existsSync(path.join(dir, '.gamelayer/oci/blobs/sha256', layer.digest.slice(7)))).toBe(true);
  }, 300_000);

  it('in another registry with htpasswd auth: read with the docker config credentials, verified, cached; moves are reported', async () => {
    const dir = await game(`${locked.host}/base/busybox:1`);
    const { layer } = await busyboxLayer();
    const u = locked.users[0]!;
    const env = await lockedLogin();

    const denied = await glFails(dir, ['build', '--push', `${plain.host}/studio/fromlocked`, '--tag', 'v1'], { HOME: await tempDir(), DOCKER_CONFIG: await tempDir() });
    expect(denied).toContain(`base image ${locked.host}/base/busybox:1`);
    expect(denied).toContain('docker login');

    await locked.resetAccessLog();
    await gl(dir, ['build', '--push', `${plain.host}/studio/fromlocked`, '--tag', 'v1'], env);
    expect((await locked.accessLog()).filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`) && e.status === 200)).toHaveLength(1);
    expect(sha256(await readFile(path.join(dir, '.gamelayer/oci/blobs/sha256', layer.digest.slice(7))))).toBe(layer.digest);
    expect(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${plain.host}/studio/fromlocked:v1`]).toString()).toContain(layer.digest);
    // Cached: a second build downloads no layer again.
    await locked.resetAccessLog();
    await gl(dir, ['build', '--push', `${plain.host}/studio/fromlocked`, '--tag', 'v1'], env);
    expect((await locked.accessLog()).filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`))).toEqual([]);

    // The base tag moves to another image (same layer, another config: a rebuilt base with a new label).
    const other = path.join(await tempDir(), 'other');
    await relabelledLayout(other);
    await run('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', `${u.username}:${u.password}`, `oci:${other}:busybox`, `docker://${locked.host}/base/busybox:1`]);
    const moved = await gl(dir, ['build', '--push', `${plain.host}/studio/fromlocked`, '--tag', 'v2', '--json'], env);
    const summary = JSON.parse(moved.stdout) as { summary: { built: number; baseMoved: { from: string; to: string }[] } };
    expect(summary.summary.baseMoved).toHaveLength(1);
    expect(summary.summary.built).toBe(0); // every layer of ours kept
    expect(moved.stderr).toContain(`base image ${locked.host}/base/busybox:1 (linux/amd64) moved since the previous build`);
  }, 300_000);

  it('in another registry, with a copy under the same name in the target registry (a base kept in each region): the push mounts its layers from that copy', async () => {
    const dir = await game(`${locked.host}/base/busybox:1`);
    const { layer } = await busyboxLayer();
    const env = await lockedLogin();
    await plain.resetAccessLog();
    await gl(dir, ['build', '--push', `${plain.host}/studio/region2`, '--tag', 'v1'], env);
    const log = await plain.accessLog();
    // plain holds base/busybox too (beforeAll): the layer is mounted from it, not uploaded again.
    expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(layer.digest)}`) && e.path.includes('from=base%2Fbusybox') && e.status === 201)).toBe(true);
    expect(log.filter((e) => e.method === 'PUT' && e.path.includes(`digest=${encodeURIComponent(layer.digest)}`))).toEqual([]);
    expect(await storageProblems(plain.storageDir)).toEqual([]);
  }, 300_000);

  it('a mount the registry refuses outright (403: a source these credentials may not read) is uploaded instead', async () => {
    const proxy = await startFaultProxy(plain.host, [
      { method: 'POST', path: /^\/v2\/studio\/mount-denied\/blobs\/uploads\/$/, action: { kind: 'status', status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }) } },
    ]);
    try {
      const dir = await game(`${proxy.host}/base/busybox:1`);
      await gl(dir, ['build', '--push', `${proxy.host}/studio/mount-denied`, '--tag', 'v1']);
      expect(proxy.fired[0]).toBe(1);
      const { layer } = await busyboxLayer();
      expect(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${plain.host}/studio/mount-denied:v1`]).toString()).toContain(layer.digest);
      expect(await storageProblems(plain.storageDir)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 300_000);

  it('bad input: an unreachable base registry, a platform the base lacks, a reference that is not there', async () => {
    const port = await freePort();
    // Two attempts (GAMELAYER_REGISTRY_RETRIES): the default six only wait longer for the same refusal.
    const unreachable = await glFails(await game(`127.0.0.1:${port}/base/busybox:1`), ['build'], { GAMELAYER_REGISTRY_RETRIES: '2' });
    expect(unreachable).toContain(`error[base.pull]: base image 127.0.0.1:${port}/base/busybox:1:`);
    expect(unreachable).toContain('refused the connection');

    const dir = await game(`${plain.host}/base/busybox:1`);
    const file = path.join(dir, 'gamelayer.yaml');
    await writeFile(file, `${await readFile(file, 'utf8')}\nplatforms: [linux/s390x]\n`);
    const platform = await glFails(dir, ['build']);
    expect(platform).toContain(`base image ${plain.host}/base/busybox:1: no manifest for linux/s390x (it has linux/arm64, linux/amd64)`);

    // A base the registry lacks is the config's error: named by the baseImage field (file, line), digest pinning suggested.
    const missingDir = await game(`${plain.host}/base/busybox:nope`);
    const yaml = path.join(missingDir, 'gamelayer.yaml');
    const line = (await readFile(yaml, 'utf8')).split('\n').findIndex((l) => l.startsWith('baseImage:')) + 1;
    const missing = await glFails(missingDir, ['build']);
    expect(missing).toContain(`error[base.pull]: ${yaml}:${line}:`);
    expect(missing).toMatch(new RegExp(`:${line}:\\d+: baseImage: base image ${plain.host}/base/busybox:nope:`));
    expect(missing).toMatch(/hint: check the repository and tag of baseImage; pin it by digest/);
  }, 300_000);

  it('on ECR (the local ECR endpoint): the base in the target registry is mounted, read once', async () => {
    const { layer } = await busyboxLayer();
    const pw = ecr.registry.users[0]!;
    ecr.repositories.set('base/busybox', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    ecr.repositories.set('studio/ecrgame', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${pw.username}:${pw.password}`, `oci:${layout}:multi`, `docker://${ecr.host}/base/busybox:1`]);
    const dir = await game(`${ecr.host}/base/busybox:1`);
    const env = {
      HOME: await tempDir(),
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      GAMELAYER_ECR_ENDPOINT: ecr.endpoint,
    };
    await ecr.registry.resetAccessLog();
    await gl(dir, ['build', '--push', `${ecr.host}/studio/ecrgame`, '--tag', 'v1', '--ecr', '--region', 'eu-west-3'], env);
    const log = await ecr.registry.accessLog();
    // Read once for the folders above the mounts, kept as it was read; the push mounts it.
    expect(log.filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${layer.digest}`) && e.status === 200)).toHaveLength(1);
    expect(existsSync(path.join(dir, '.gamelayer/oci/blobs/sha256', layer.digest.slice(7)))).toBe(true);
    expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(layer.digest)}`) && e.status === 201)).toBe(true);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
  }, 300_000);

  it('an index entry whose platform is not what its image\'s config says is refused, naming the base, both platforms', async () => {
    const lying = path.join(await tempDir(), 'lying');
    const arm = await lyingIndexLayout(lying, layout);
    await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${lying}:lying`, `docker://${plain.host}/base/lying:1`]);
    const err = await glFails(await game(`${plain.host}/base/lying:1`), ['build', '--platform', 'linux/amd64']);
    expect(err).toContain(`error[base.platform]: base image ${plain.host}/base/lying:1: its index lists ${arm} as linux/amd64, but that image's config says linux/arm64`);
  }, 300_000);

  it('a base layer the registry serves damaged (same size, other bytes) is refused, named, and never stored', async () => {
    const own = await startRegistry();
    try {
      await skopeoPush(`${own.host}/base/busybox:1`);
      const { layer } = await busyboxLayer();
      const hex = layer.digest.slice(7);
      const data = path.join(own.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      const bytes = await readFile(data);
      bytes[100] = bytes[100]! ^ 0xff;
      await writeFile(data, bytes);
      const dir = await game(`${own.host}/base/busybox:1`);
      const err = await glFails(dir, ['build', '--push', `${plain.host}/studio/damagedbase`, '--tag', 'v1']);
      expect(err).toContain(`base image ${own.host}/base/busybox:1`);
      expect(err).toContain(`the registry sent blob ${layer.digest}: content hashes to sha256:`);
      expect(err).toContain('nothing was stored');
      expect(existsSync(path.join(dir, '.gamelayer/oci/blobs/sha256', hex))).toBe(false);
      const tags = await fetch(`${plain.url}/v2/studio/damagedbase/tags/list`);
      expect(tags.status).toBe(404);
    } finally {
      await own.stop();
    }
  }, 300_000);
});
