// The ECR push path against a fake ECR API (real @aws-sdk/client-ecr over HTTP, SigV4 signed) backed by a real
// docker-registry. What reached the registry comes from its own access log and storage.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import { ecrTarget, type EcrOptions } from '../src/registry/ecr.js';
import type { BuildRecord } from '../src/types.js';
import { layoutBlob as blobSource } from '../src/oci/layout.js';
import { pushImage } from '../src/registry/push.js';
import { uploadBlob } from '../src/registry/upload.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { addTag, randomContent, type LayerSpec } from './support/make-layout.js';
import { storageProblems, storedTags, type AccessLogEntry } from './support/registry.js';

let work: string;
let ecr: FakeEcr;
let layout: string;
let ecrOpts: EcrOptions;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-ecr-'));
  layout = path.join(work, 'oci');
  ecr = await startFakeEcr();
  ecrOpts = { force: true, region: 'eu-west-3', endpoint: ecr.endpoint, credentials: FAKE_CREDENTIALS };
});
afterAll(async () => {
  await ecr?.stop();
  await rm(work, { recursive: true, force: true });
});

const blobHeads = (log: AccessLogEntry[]) => log.filter((e) => e.method === 'HEAD' && e.path.includes('/blobs/'));
const blobUploads = (log: AccessLogEntry[]) => log.filter((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/') && e.status === 201);
const manifestPuts = (log: AccessLogEntry[]) => log.filter((e) => e.method === 'PUT' && e.path.includes('/manifests/'));
const callsOf = (op: string) => ecr.calls.filter((c) => c.op === op);
const layers = (n: number, prefix: string): LayerSpec[] => Array.from({ length: n }, (_, i) => ({ files: { [`${prefix}/${i}.bin`]: `${prefix}-${i}` } }));

async function fails(p: Promise<unknown>): Promise<GamelayerError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('push to ECR (fake ECR API + real registry)', () => {
  const shared = { files: { 'engine/bin': randomContent(120_000) } };

  it('gets a token through the SDK and checks blobs with BatchCheckLayerAvailability, never HEAD', async () => {
    ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const t = await addTag(layout, 'v1', [{ layers: [shared, { files: { 'app/game.cfg': 'maxplayers=32' } }] }]);
    ecr.calls.length = 0;
    await ecr.registry.resetAccessLog();
    const r = await pushImage({ layout, to: `${ecr.host}/studio/game:v1`, ecr: ecrOpts });
    expect(r.digest).toBe(t.top.digest);
    expect(r.blobs).toEqual({ total: 3, skipped: 0, mounted: 0, uploaded: 3 });

    const token = callsOf('GetAuthorizationToken');
    expect(token).toHaveLength(1);
    // Real SigV4 from the SDK: our access key, the region we gave, the ecr service.
    expect(token[0]).toMatchObject({ accessKeyId: FAKE_CREDENTIALS.accessKeyId, region: 'eu-west-3', service: 'ecr' });
    const checks = callsOf('BatchCheckLayerAvailability');
    expect(checks).toHaveLength(1);
    expect((checks[0]!.body.layerDigests as string[]).sort()).toEqual([...t.images[0]!.layers.map((l) => l.digest), t.images[0]!.config.digest].sort());

    const log = await ecr.registry.accessLog();
    expect(blobHeads(log)).toEqual([]);
    expect(blobUploads(log)).toHaveLength(3);
    expect((await storedTags(ecr.registry.storageDir, 'studio/game')).v1).toBe(t.top.digest);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
  });

  it('a second image uploads only what BatchCheckLayerAvailability reports missing', async () => {
    const t = await addTag(layout, 'v2', [{ layers: [shared, { files: { 'app/game.cfg': 'maxplayers=64' } }] }]);
    await ecr.registry.resetAccessLog();
    ecr.calls.length = 0;
    const r = await pushImage({ layout, to: `${ecr.host}/studio/game:v2`, ecr: ecrOpts });
    expect(r.blobs).toEqual({ total: 3, skipped: 1, mounted: 0, uploaded: 2 });
    const log = await ecr.registry.accessLog();
    expect(blobUploads(log)).toHaveLength(2);
    expect(blobHeads(log)).toEqual([]);
    expect((await storedTags(ecr.registry.storageDir, 'studio/game')).v2).toBe(t.top.digest);
  });

  it('asks for more than 100 blobs in batches of at most 100', async () => {
    ecr.repositories.set('studio/many', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const t = await addTag(layout, 'many1', [{ layers: layers(130, 'm') }]);
    ecr.calls.length = 0;
    await ecr.registry.resetAccessLog();
    const first = await pushImage({ layout, to: `${ecr.host}/studio/many:many1`, ecr: ecrOpts, concurrency: 8 });
    expect(first.blobs.uploaded).toBe(131);
    // The fake refuses a call with more than 100 digests, as ECR does.
    expect(callsOf('BatchCheckLayerAvailability').map((c) => (c.body.layerDigests as string[]).length).sort((a, b) => a - b)).toEqual([31, 100]);

    // Same 130 layers plus one: only the new layer and the new config go up.
    await addTag(layout, 'many2', [{ layers: [...layers(130, 'm'), { files: { 'new.bin': 'new' } }] }]);
    ecr.calls.length = 0;
    await ecr.registry.resetAccessLog();
    const second = await pushImage({ layout, to: `${ecr.host}/studio/many:many2`, ecr: ecrOpts });
    expect(second.blobs).toEqual({ total: 132, skipped: 130, mounted: 0, uploaded: 2 });
    const checked = callsOf('BatchCheckLayerAvailability').flatMap((c) => c.body.layerDigests as string[]);
    expect(checked).toHaveLength(132);
    expect(new Set(checked).size).toBe(132);
    const log = await ecr.registry.accessLog();
    expect(blobHeads(log)).toEqual([]);
    expect(blobUploads(log)).toHaveLength(2);
    expect(t.images[0]!.layers).toHaveLength(130);
  });

  it('a missing repository is a clear error naming it and --create-repo, before anything reaches the registry', async () => {
    await addTag(layout, 'solo', [{ layers: [shared] }]);
    ecr.frontSeen.length = 0;
    const e = await fails(pushImage({ layout, to: `${ecr.host}/studio/nothere:solo`, ecr: ecrOpts }));
    expect(e.code).toBe('ecr.no-repository');
    expect(e.message).toContain('"studio/nothere"');
    expect(e.hint).toContain('--create-repo');
    expect(ecr.frontSeen).toEqual([]);
  });

  it('createRepository creates it (scan on push, immutable tags) and pushes', async () => {
    const r = await pushImage({
      layout,
      to: `${ecr.host}/studio/created:solo`,
      ecr: { ...ecrOpts, createRepository: true, scanOnPush: true, immutableTags: true },
    });
    expect(r.blobs.uploaded).toBe(2);
    // Immutable but for the line tags, which each build of a line moves, and the signature and referrers tags.
    expect(ecr.repositories.get('studio/created')).toMatchObject({ mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*', 'sha256-*'], scanOnPush: true });
    expect(callsOf('CreateRepository').at(-1)!.body).toMatchObject({
      repositoryName: 'studio/created',
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [
        { filterType: 'WILDCARD', filter: 'gamelayer-line.*' },
        { filterType: 'WILDCARD', filter: 'sha256-*' },
      ],
      imageScanningConfiguration: { scanOnPush: true },
    });
  });

  it('on an immutable tag: the same digest again is a no-op; another digest is a clear error before any upload', async () => {
    await ecr.registry.resetAccessLog();
    const again = await pushImage({ layout, to: `${ecr.host}/studio/created:solo`, ecr: ecrOpts });
    expect(again.upToDate).toBe(true);
    expect(manifestPuts(await ecr.registry.accessLog())).toEqual([]);

    await addTag(layout, 'other', [{ layers: [shared, { files: { 'x.cfg': 'changed' } }] }]);
    await ecr.registry.resetAccessLog();
    const e = await fails(pushImage({ layout, to: `${ecr.host}/studio/created:solo`, image: 'other', ecr: ecrOpts }));
    expect(e.code).toBe('push.tag-immutable');
    expect(e.message).toContain(':solo already names sha256:');
    expect(e.message).toContain('immutable');
    expect(blobUploads(await ecr.registry.accessLog())).toEqual([]);
  });

  it('the build record goes up beside an image on an immutable repository and is found again', async () => {
    const subject = await pushImage({ layout, to: `${ecr.host}/studio/created:solo`, ecr: ecrOpts });
    const rec = (createdAt: string): BuildRecord => ({
      schemaVersion: 1, game: 'g', createdAt, tags: ['solo'], platforms: ['linux/amd64'], manifests: [], plan: { layers: [] }, layers: [],
      images: [{ name: 'server', digest: subject.digest, mediaType: subject.mediaType }],
    });
    const desc = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    ecr.calls.length = 0;
    await ecr.registry.resetAccessLog();
    const first = await pushBuildRecord({ to: `${ecr.host}/studio/created`, record: rec('2024-01-01T00:00:00Z'), subject: desc, tags: ['solo'], ecr: ecrOpts });
    expect(first.tags).toEqual(['solo.gamelayer-record']);
    expect(callsOf('BatchCheckLayerAvailability')).toHaveLength(1);
    expect(blobHeads(await ecr.registry.accessLog())).toEqual([]);
    // The record tag is immutable too: a later record of the same image leaves the first in place.
    const second = await pushBuildRecord({ to: `${ecr.host}/studio/created`, record: rec('2024-02-01T00:00:00Z'), subject: desc, tags: ['solo'], ecr: ecrOpts });
    expect(second.kept).toEqual(['solo.gamelayer-record']);
    const found = await fetchBuildRecordFor(`${ecr.host}/studio/created:solo`, { ecr: ecrOpts });
    expect(found).toMatchObject({ via: 'tag', digest: first.digest, record: { createdAt: '2024-01-01T00:00:00Z' } });
  });

  it('TAG_INVALID from the registry (immutability not known beforehand) becomes the same clear error', async () => {
    const target = await ecrTarget({ ...ecrOpts, host: ecr.host, repository: 'studio/created' });
    target.immutableTag = () => false; // as if DescribeRepositories had not told
    const e = await fails(pushImage({ layout, to: `${ecr.host}/studio/created:solo`, image: 'other', target }));
    expect(e.code).toBe('push.tag-immutable');
    expect((e.cause as Error).message).toContain('TAG_INVALID');
    const current = (await storedTags(ecr.registry.storageDir, 'studio/created')).solo;
    expect(e.message).toContain(`already names ${current}`);
  });

  it('retries ECR throttling (ThrottlingException) and gives up with a clear error when it persists', async () => {
    ecr.repositories.set('studio/throttled', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    ecr.calls.length = 0;
    ecr.throttle('BatchCheckLayerAvailability', 2);
    ecr.throttle('GetAuthorizationToken', 1);
    const r = await pushImage({ layout, to: `${ecr.host}/studio/throttled:solo`, ecr: ecrOpts });
    expect(r.blobs.uploaded).toBe(2);
    expect(callsOf('BatchCheckLayerAvailability')).toHaveLength(3);
    expect(callsOf('GetAuthorizationToken')).toHaveLength(2);

    ecr.calls.length = 0;
    ecr.throttle('DescribeRepositories', 10);
    const e = await fails(pushImage({ layout, to: `${ecr.host}/studio/throttled:solo`, ecr: { ...ecrOpts, maxAttempts: 2 } }));
    expect(e.code).toBe('ecr.ThrottlingException');
    expect(e.message).toContain('DescribeRepositories');
    expect(e.hint).toContain('--concurrency');
    expect(callsOf('DescribeRepositories')).toHaveLength(2);
    ecr.throttle('DescribeRepositories', 0);
  }, 60_000);

  it('refreshes the token at half-life during a long push, and once more after a 401', async () => {
    ecr.repositories.set('studio/slow', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    await addTag(layout, 'slow', [{ layers: layers(4, 'slow') }]);
    // Each blob upload is held 400 ms; tokens live 1 s, so a new one is due every 500 ms.
    const proxy = await startFaultProxy(ecr.host, [{ method: 'PATCH', path: /\/blobs\/uploads\//, count: 5, action: { kind: 'stall', ms: 400 } }]);
    ecr.tokenLifetimeMs = 1000;
    ecr.calls.length = 0;
    try {
      const r = await pushImage({ layout, to: `${proxy.host}/studio/slow:slow`, ecr: { ...ecrOpts, force: true }, concurrency: 1 });
      expect(r.blobs.uploaded).toBe(5);
      const fetches = callsOf('GetAuthorizationToken').length;
      expect(fetches).toBeGreaterThanOrEqual(3);
      // Not one per request: a token is reused inside its first half-life.
      expect(fetches).toBeLessThan(proxy.seen.length);

      // A 401 (token revoked early) gets exactly one new token and the request goes through.
      ecr.tokenLifetimeMs = 12 * 3600_000;
      await addTag(layout, 'slow2', [{ layers: layers(1, 'slow2') }]);
      proxy.setRules([{ method: 'PUT', path: /\/manifests\//, action: { kind: 'status', status: 401, headers: { 'www-authenticate': 'Basic realm="ecr"' } } }]);
      ecr.calls.length = 0;
      const r2 = await pushImage({ layout, to: `${proxy.host}/studio/slow:slow2`, ecr: ecrOpts });
      expect(proxy.fired).toEqual([1]);
      expect(r2.manifestsPut).toHaveLength(1);
      expect(callsOf('GetAuthorizationToken')).toHaveLength(2);
    } finally {
      ecr.tokenLifetimeMs = 12 * 3600_000;
      await proxy.stop();
    }
  });

  it('mounts from another repository only when ECR mounts; a 202 answer switches mounting off silently', async () => {
    ecr.repositories.set('studio/base', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    ecr.repositories.set('studio/nomount', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    ecr.repositories.set('studio/mounted', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const base = layers(3, 'base');
    await addTag(layout, 'base', [{ layers: base }]);
    await pushImage({ layout, to: `${ecr.host}/studio/base:base`, ecr: ecrOpts });
    await addTag(layout, 'derived', [{ layers: [...base, { files: { 'own.bin': 'own' } }] }]);

    ecr.blobMounting = false;
    ecr.frontSeen.length = 0;
    const off = await pushImage({ layout, to: `${ecr.host}/studio/nomount:derived`, mountFrom: ['studio/base'], ecr: ecrOpts, concurrency: 1 });
    expect(off.blobs).toMatchObject({ mounted: 0, uploaded: 5 });
    // One mount attempt (answered 202), then plain uploads; the blob of that attempt went up on its session.
    expect(ecr.frontSeen.filter((s) => s.method === 'POST' && s.path.includes('mount='))).toHaveLength(1);

    ecr.blobMounting = true;
    ecr.frontSeen.length = 0;
    const on = await pushImage({ layout, to: `${ecr.host}/studio/mounted:derived`, mountFrom: ['studio/base'], ecr: ecrOpts });
    expect(on.blobs).toMatchObject({ mounted: 3, uploaded: 2 });
    // Only the three blobs the source holds were asked for as mounts.
    expect(ecr.frontSeen.filter((s) => s.method === 'POST' && s.path.includes('mount='))).toHaveLength(3);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
  });

  it('LayerAlreadyExists when completing an upload counts as done when the blob is there, and fails when it is not', async () => {
    const t = await addTag(layout, 'dup', [{ layers: [{ files: { 'dup.bin': randomContent(5000) } }] }]);
    const layer = t.images[0]!.layers[0]!;
    const target = await ecrTarget({ ...ecrOpts, host: ecr.host, repository: 'studio/game' });
    const proxy = await startFaultProxy(ecr.host);
    const body = JSON.stringify({ errors: [{ code: 'LayerAlreadyExists', message: `Layer ${layer.digest} already exists in the repository` }] });
    try {
      const viaProxy = await ecrTarget({ ...ecrOpts, host: proxy.host, repository: 'studio/game' });
      proxy.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, action: { kind: 'status', status: 400, body } }]);
      const missing = await fails(uploadBlob(viaProxy.client, 'studio/game', blobSource(layout, layer), { ecr: true }));
      expect(missing.message).toContain('LayerAlreadyExists');

      await uploadBlob(target.client, 'studio/game', blobSource(layout, layer), { ecr: true }); // another push got there first
      proxy.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, action: { kind: 'status', status: 400, body } }]);
      const r = await uploadBlob(viaProxy.client, 'studio/game', blobSource(layout, layer), { ecr: true });
      expect(r.outcome).toBe('uploaded');
      expect(proxy.fired).toEqual([1]);
    } finally {
      await proxy.stop();
    }
  });

  it('lists tags in pages of at most 1000', async () => {
    const target = await ecrTarget({ ...ecrOpts, host: ecr.host, repository: 'studio/game' });
    await ecr.registry.resetAccessLog();
    const tags = await target.client.listTags('studio/game', 5000);
    expect(tags.sort()).toEqual(['v1', 'v2']);
    const lists = (await ecr.registry.accessLog()).filter((e) => e.path.includes('/tags/list'));
    expect(lists.map((e) => e.path)).toEqual(['/v2/studio/game/tags/list?n=1000']);
  });

  it('an ECR host name selects the ECR path: region and account come from the host', async () => {
    ecr.calls.length = 0;
    const host = '210987654321.dkr.ecr.ap-southeast-2.amazonaws.com';
    // The repository does not exist in the fake: the push stops at DescribeRepositories, before any registry traffic.
    const e = await fails(pushImage({ layout, to: `${host}/studio/elsewhere:v1`, ecr: { endpoint: ecr.endpoint, credentials: FAKE_CREDENTIALS } }));
    expect(e.code).toBe('ecr.no-repository');
    expect(e.message).toContain('region ap-southeast-2');
    expect(callsOf('DescribeRepositories')).toHaveLength(1);
    expect(callsOf('DescribeRepositories')[0]).toMatchObject({ region: 'ap-southeast-2', body: { registryId: '210987654321', repositoryNames: ['studio/elsewhere'] } });
  });

  it('credentials the ECR API refuses are a clear error', async () => {
    const e = await fails(
      pushImage({ layout, to: `${ecr.host}/studio/game:v1`, ecr: { ...ecrOpts, credentials: { accessKeyId: 'AKIAWRONG', secretAccessKey: 'x' } } }),
    );
    expect(e.code).toBe('ecr.UnrecognizedClientException');
    expect(e.message).toContain('DescribeRepositories');
    expect(e.hint).toContain('IAM');
  });

  it('the local ECR API checks SigV4 signatures: the right key with a wrong secret is refused', async () => {
    ecr.rejected.length = 0;
    const e = await fails(
      pushImage({ layout, to: `${ecr.host}/studio/game:v1`, ecr: { ...ecrOpts, credentials: { ...FAKE_CREDENTIALS, secretAccessKey: 'not-the-secret' } } }),
    );
    expect(e.code).toBe('ecr.InvalidSignatureException');
    expect(e.message).toContain('The request signature we calculated does not match');
    expect(ecr.rejected.length).toBeGreaterThan(0);
    expect(new Set(ecr.rejected)).toEqual(new Set(['signature mismatch']));
    // Control: the same call with the right secret is accepted.
    ecr.rejected.length = 0;
    const r = await pushImage({ layout, to: `${ecr.host}/studio/game:v1`, ecr: ecrOpts });
    expect(r.digest).toMatch(/^sha256:/);
    expect(ecr.rejected).toEqual([]);
  });
});
