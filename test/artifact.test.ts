// The BuildRecord as an OCI artifact beside its image, against a real distribution 2.8 registry (no referrers API:
// the fallback tag path runs for real). The referrers path is exercised with the referrers answer served by the
// fault proxy (an index fixture naming artifacts really pushed); manifests and blobs then come from the registry.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import {
  BUILD_RECORD_ARTIFACT_TYPE,
  BUILD_RECORD_GZIP_TYPE,
  buildRecordArtifact,
  EMPTY_CONFIG,
  fetchBuildRecordFor,
  locateBuildRecordFor,
  pushBuildRecord,
  recordTag,
} from '../src/registry/artifact.js';
import { MEDIA_TYPES } from '../src/registry/client.js';
import { pushImage, pushTargetFor, type PushResult } from '../src/registry/push.js';
import { parseReference } from '../src/registry/reference.js';
import { uploadBlob } from '../src/registry/upload.js';
import type { BuildRecord, Descriptor } from '../src/types.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { addTag, randomContent } from './support/make-layout.js';
import { readStoredBlob, startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';

const run = promisify(execFile);
let work: string;
let layout: string;
let reg: TestRegistry;
let image: PushResult;

function record(createdAt: string, digest: string): BuildRecord {
  return {
    schemaVersion: 1,
    game: 'my-game',
    version: '1.0.0',
    createdAt,
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [
      {
        tree: 'app',
        root: '/src/app',
        source: { kind: 'dir', path: '/src/app' },
        entries: [{ path: 'game.cfg', type: 'file', mode: 0o644, size: 13, xxh64: '0123456789abcdef' }],
        digest: `sha256:${'a'.repeat(64)}`,
      },
    ],
    plan: { layers: [{ tree: 'app', index: 0, entries: [{ path: 'game.cfg', type: 'file', mode: 0o644, size: 13 }], inputKey: `sha256:${'b'.repeat(64)}`, bytes: 13 }] },
    layers: [{ tree: 'app', index: 0, inputKey: `sha256:${'b'.repeat(64)}`, diffID: `sha256:${'c'.repeat(64)}`, digest: `sha256:${'d'.repeat(64)}`, size: 100, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
  };
}
const subjectOf = (p: PushResult): Descriptor => ({ mediaType: p.mediaType, digest: p.digest, size: p.size });

/** Pushes a record artifact whose layer is `bytes` of `layerType`, as another (or an older) writer would. */
async function pushRawRecord(tag: string, subject: Descriptor, layerType: string, bytes: Buffer): Promise<void> {
  const { client } = await pushTargetFor(parseReference(`${reg.host}/studio/game`), {});
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  for (const b of [Buffer.from('{}'), bytes]) {
    await uploadBlob(client, 'studio/game', { digest: sha(b), size: b.length, origin: 'test', open: (s = 0, e = b.length - 1) => Readable.from([b.subarray(s, e + 1)]) });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: BUILD_RECORD_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers: [{ mediaType: layerType, digest: sha(bytes), size: bytes.length }],
      subject,
    }),
  );
  await client.putManifest('studio/game', recordTag(tag), manifest, MEDIA_TYPES.ociManifest);
}

async function fails(p: Promise<unknown>): Promise<GamelayerError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-artifact-'));
  layout = path.join(work, 'oci');
  reg = await startRegistry();
  await addTag(layout, 'v1', [{ layers: [{ files: { 'app/game.cfg': 'maxplayers=32' } }, { files: { 'media/a.pak': randomContent(20_000) } }] }]);
  image = await pushImage({ layout, to: `${reg.host}/studio/game:v1` });
});
afterAll(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('the build record artifact', () => {
  it('is an OCI 1.1 artifact manifest: artifactType, the empty config, one JSON layer, subject = the image', () => {
    const rec = record('2024-05-01T10:00:00Z', image.digest);
    const a = buildRecordArtifact(rec, subjectOf(image));
    const m = JSON.parse(a.manifest.toString()) as Record<string, unknown>;
    expect(m).toMatchObject({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: BUILD_RECORD_ARTIFACT_TYPE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 },
      layers: [{ mediaType: BUILD_RECORD_GZIP_TYPE, digest: a.recordDescriptor.digest, size: a.record.length }],
      subject: { digest: image.digest, mediaType: image.mediaType, size: image.size },
    });
    expect(EMPTY_CONFIG.digest).toBe(`sha256:${createHash('sha256').update('{}').digest('hex')}`);
    // The blob holds what was built: not the tags and creation time, which the manifest's annotations carry, nor the
    // trees' source paths on the build host.
    const { tags, createdAt, ...content } = rec;
    expect(JSON.parse(gunzipSync(a.record).toString())).toEqual({ ...content, manifests: content.manifests.map((m) => ({ ...m, root: '', source: { ...m.source, path: '' } })) });
    expect(m.annotations).toMatchObject({ 'org.opencontainers.image.created': createdAt, 'dev.gamelayer.tags': JSON.stringify(tags) });
    expect(recordTag('v1')).toBe('v1.gamelayer-record');
    expect(() => recordTag('x'.repeat(112))).toThrow(/too long/);
  });

  it('has the same blob for the same content under another tag and time: only the manifest differs', () => {
    const a = buildRecordArtifact(record('2024-05-01T10:00:00Z', image.digest), subjectOf(image));
    const retagged = { ...record('2024-05-02T08:00:00Z', image.digest), tags: ['v2', 'v2-engine'] };
    const b = buildRecordArtifact(retagged, subjectOf(image));
    expect(b.recordDescriptor.digest).toBe(a.recordDescriptor.digest);
    expect(b.descriptor.digest).not.toBe(a.descriptor.digest);
    // Built in another checkout folder by another CodeBuild run, planned on another record: the same blob too.
    const elsewhere = record('2024-05-03T08:00:00Z', image.digest);
    elsewhere.manifests = elsewhere.manifests.map((m) => ({ ...m, root: '/codebuild/output/src42/src/app', source: { kind: 'dir', path: '/codebuild/output/src42/src/app' } }));
    elsewhere.codebuildArn = 'arn:aws:codebuild:eu-west-1:123456789012:build/game:42';
    elsewhere.revision = '4444cccc5555dddd6666';
    elsewhere.sourceUrl = 'https://github.com/studio/game';
    elsewhere.previous = { ref: 'r/game:gamelayer-line.main', createdAt: '2024-05-02T08:00:00Z' };
    const c = buildRecordArtifact(elsewhere, subjectOf(image));
    expect(c.recordDescriptor.digest).toBe(a.recordDescriptor.digest);
    expect(JSON.parse(c.manifest.toString()).annotations).toMatchObject({
      'dev.gamelayer.codebuild-arn': elsewhere.codebuildArn,
      'dev.gamelayer.previous': JSON.stringify(elsewhere.previous),
      'org.opencontainers.image.revision': elsewhere.revision,
      'org.opencontainers.image.source': elsewhere.sourceUrl,
    });
  });

  it('is sent gzip-compressed: a record of many files costs a fraction of its JSON', () => {
    const rec = record('2024-05-01T10:00:00Z', image.digest);
    // 5,000 files as a scan records them: paths, sizes, modes and random xxh64 digests (which do not compress).
    rec.manifests[0]!.entries = Array.from({ length: 5000 }, (_, i) => ({
      path: `Content/Maps/Level${i % 40}/Textures/tex_${String(i).padStart(5, '0')}.dds`,
      type: 'file' as const,
      mode: 0o644,
      size: 1000 + i * 37,
      xxh64: createHash('sha256').update(String(i)).digest('hex').slice(0, 16),
    }));
    const json = Buffer.byteLength(JSON.stringify(rec));
    const sent = buildRecordArtifact(rec, subjectOf(image)).record.length;
    expect(sent).toBeLessThan(json / 3);
  });

  it('goes up beside the image with the fallback tag; skopeo reads it back', async () => {
    await reg.resetAccessLog();
    const r = await pushBuildRecord({ to: `${reg.host}/studio/game`, record: record('2024-05-01T10:00:00Z', image.digest), subject: subjectOf(image), tags: ['v1'] });
    expect(r.tags).toEqual(['v1.gamelayer-record']);
    expect(r.blobsUploaded).toBe(2);
    const tags = await storedTags(reg.storageDir, 'studio/game');
    expect(tags).toEqual({ v1: image.digest, 'v1.gamelayer-record': r.digest });
    const stored = JSON.parse((await readStoredBlob(reg.storageDir, r.digest))!.toString()) as { subject: { digest: string }; artifactType: string };
    expect(stored.subject.digest).toBe(image.digest);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/studio/game:v1.gamelayer-record`]);
    expect(JSON.parse(stdout)).toMatchObject({ artifactType: BUILD_RECORD_ARTIFACT_TYPE, subject: { digest: image.digest } });

    // Again: nothing to send.
    await reg.resetAccessLog();
    const again = await pushBuildRecord({ to: `${reg.host}/studio/game`, record: record('2024-05-01T10:00:00Z', image.digest), subject: subjectOf(image), tags: ['v1'] });
    expect(again.digest).toBe(r.digest);
    expect(again.blobsUploaded).toBe(0);
    expect((await reg.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
  });

  it('is found by the fallback tag on a registry without the referrers API', async () => {
    await reg.resetAccessLog();
    const found = await fetchBuildRecordFor(`${reg.host}/studio/game:v1`);
    expect(found.via).toBe('tag');
    expect(found.subject).toBe(image.digest);
    const pushed = record('2024-05-01T10:00:00Z', image.digest);
    // Read back from the registry, a record names no source path of the host that built it.
    expect(found.record).toEqual({ ...pushed, manifests: pushed.manifests.map((m) => ({ ...m, root: '', source: { ...m.source, path: '' } })) });
    // distribution 2.8 really has no referrers route.
    const referrers = (await reg.accessLog()).filter((e) => e.path.includes('/referrers/'));
    expect(referrers).toHaveLength(1);
    expect(referrers[0]!.status).toBe(404);
  });

  it('is located without being read (diff --against reads it after the scan); a missing image or record fails at once', async () => {
    await reg.resetAccessLog();
    const read = await locateBuildRecordFor(`${reg.host}/studio/game:v1`);
    const recordGets = async () => (await reg.accessLog()).filter((e) => e.method === 'GET' && (e.path.includes('/blobs/') || e.path.includes('.gamelayer-record') || /manifests\/sha256:/.test(e.path)));
    // Found (the image's HEAD, the referrers lookup, the fallback tag's HEAD): no manifest of the record, no blob.
    expect(await recordGets()).toEqual([]);
    const found = await read();
    expect(found.record).toEqual((await fetchBuildRecordFor(`${reg.host}/studio/game:v1`)).record);
    expect((await recordGets()).some((e) => e.path.includes('/blobs/sha256:'))).toBe(true);
    expect((await fails(locateBuildRecordFor(`${reg.host}/studio/game:nope`))).code).toBe('record.no-image');
    expect((await fails(locateBuildRecordFor(`${reg.host}/studio/game@${image.digest}`))).code).toBe('record.not-found');
  });

  it('reads a record pushed by an earlier version (plain JSON layer); a damaged gzip layer is a clear error', async () => {
    await addTag(layout, 'old', [{ layers: [{ files: { 'app/game.cfg': 'maxplayers=8' } }] }]);
    const old = await pushImage({ layout, to: `${reg.host}/studio/game:old` });
    const rec = record('2024-03-01T00:00:00Z', old.digest);
    await pushRawRecord('old', subjectOf(old), BUILD_RECORD_ARTIFACT_TYPE, Buffer.from(JSON.stringify(rec)));
    expect((await fetchBuildRecordFor(`${reg.host}/studio/game:old`)).record).toEqual(rec);

    await pushRawRecord('old', subjectOf(old), BUILD_RECORD_GZIP_TYPE, Buffer.from('not gzip at all'));
    const damaged = await fails(fetchBuildRecordFor(`${reg.host}/studio/game:old`));
    expect(damaged.code).toBe('record.invalid');
    expect(damaged.message).toMatch(/the record layer is not a readable gzip stream/);
  });

  it('absent, moved or invalid records are clear errors', async () => {
    await addTag(layout, 'v2', [{ layers: [{ files: { 'app/game.cfg': 'maxplayers=64' } }] }]);
    const v2 = await pushImage({ layout, to: `${reg.host}/studio/game:v2` });
    const absent = await fails(fetchBuildRecordFor(`${reg.host}/studio/game:v2`));
    expect(absent.code).toBe('record.not-found');
    expect(absent.message).toContain('v2.gamelayer-record');
    expect(absent.message).toContain(v2.digest);
    // Its record may also have been deleted since (by hand): the hint says so and where the builds with one are listed.
    expect(absent.hint).toBe(`the image was pushed without its record, by another tool, or its record was deleted since; gamelayer ls ${reg.host}/studio/game lists the builds that have one`);

    const byDigest = await fails(fetchBuildRecordFor(`${reg.host}/studio/game@${image.digest}`));
    expect(byDigest.code).toBe('record.not-found');
    expect(byDigest.hint).toContain('by tag');

    const noImage = await fails(fetchBuildRecordFor(`${reg.host}/studio/game:nope`));
    expect(noImage.code).toBe('record.no-image');

    // v1 moved to the v2 image; its record tag still names the record of the old image.
    await pushImage({ layout, to: `${reg.host}/studio/game:v1`, image: 'v2' });
    const stale = await fails(fetchBuildRecordFor(`${reg.host}/studio/game:v1`));
    expect(stale.code).toBe('record.stale');
    expect(stale.message).toContain(`describes ${image.digest}, not ${v2.digest}`);

    // A record that is not a valid BuildRecord.
    const bad = { ...record('2024-05-02T00:00:00Z', v2.digest), schemaVersion: 2 } as unknown as BuildRecord;
    await pushBuildRecord({ to: `${reg.host}/studio/game`, record: bad, subject: subjectOf(v2), tags: ['v2'] });
    const invalid = await fails(fetchBuildRecordFor(`${reg.host}/studio/game:v2`));
    expect(invalid.code).toBe('record.invalid');
    expect(invalid.message).toContain('schemaVersion');

    // A record pushed before its image is refused.
    const missing = await fails(
      pushBuildRecord({ to: `${reg.host}/studio/game`, record: record('x', image.digest), subject: { ...subjectOf(image), digest: `sha256:${'e'.repeat(64)}` }, tags: ['v9'] }),
    );
    expect(missing.code).toBe('record.no-subject');
  });

  it('is found through the referrers API when the registry answers it (index fixture from the proxy), newest record first', async () => {
    await addTag(layout, 'v3', [{ layers: [{ files: { 'app/game.cfg': 'maxplayers=16' } }] }]);
    const v3 = await pushImage({ layout, to: `${reg.host}/studio/game:v3` });
    const older = await pushBuildRecord({ to: `${reg.host}/studio/game`, record: record('2024-01-01T00:00:00Z', v3.digest), subject: subjectOf(v3), tags: [] });
    const newer = await pushBuildRecord({ to: `${reg.host}/studio/game`, record: record('2024-06-01T00:00:00Z', v3.digest), subject: subjectOf(v3), tags: [] });
    const desc = (digest: string, artifactType: string, created: string) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest,
      size: 500,
      artifactType,
      annotations: { 'org.opencontainers.image.created': created },
    });
    // As a registry that ignores the artifactType filter would answer: another artifact type is listed too.
    const fixture = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        desc(older.digest, BUILD_RECORD_ARTIFACT_TYPE, '2024-01-01T00:00:00Z'),
        desc(`sha256:${'f'.repeat(64)}`, 'application/vnd.dev.cosign.artifact.sig.v1+json', '2025-01-01T00:00:00Z'),
        desc(newer.digest, BUILD_RECORD_ARTIFACT_TYPE, '2024-06-01T00:00:00Z'),
      ],
    };
    const proxy = await startFaultProxy(reg.host, [
      {
        method: 'GET',
        path: new RegExp(`^/v2/studio/game/referrers/${v3.digest}$`),
        action: { kind: 'status', status: 200, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: JSON.stringify(fixture) },
      },
    ]);
    try {
      await reg.resetAccessLog();
      const found = await fetchBuildRecordFor(`${proxy.host}/studio/game@${v3.digest}`);
      expect(found.via).toBe('referrers');
      expect(found.digest).toBe(newer.digest);
      expect(found.record.createdAt).toBe('2024-06-01T00:00:00Z');
      expect(proxy.fired).toEqual([1]);
      expect(proxy.seen.find((s) => s.path.includes('/referrers/'))!.path).toContain(`artifactType=${encodeURIComponent(BUILD_RECORD_ARTIFACT_TYPE)}`);
      // The manifest and the record blob came from the real registry.
      const log = await reg.accessLog();
      expect(log.some((e) => e.method === 'GET' && e.path === `/v2/studio/game/manifests/${newer.digest}` && e.status === 200)).toBe(true);
      expect(log.some((e) => e.method === 'GET' && e.path.startsWith('/v2/studio/game/blobs/sha256:') && e.status === 200)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});
