// The registry is the build state (issue 15): a host with no .gamelayer/ (a fresh CodeBuild host), one with a stale
// .gamelayer/ and a warm one build the same sources into byte-identical images, planned on the registry's newest
// record of their line of work; kept layers are never downloaded; what the registry lost is rebuilt; a damaged
// registry copy or record is a clear error and nothing is pushed. Real registry (distribution 2.8), real CLI.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeEcr } from './support/fake-ecr.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
let registry: TestRegistry;
let shared: TestRegistry;
const extra: TestRegistry[] = [];

beforeAll(async () => {
  shared = registry = await startRegistry();
});
afterEach(() => {
  registry = shared;
});
afterAll(async () => Promise.all([shared, ...extra].map((r) => r?.stop())));

/** A registry for this test only (blob storage is shared between repositories: damage must not leak). */
async function own(): Promise<void> {
  registry = await startRegistry();
  extra.push(registry);
}

interface BuildJson {
  images: { name: string; platform?: string; digest: string }[];
  summary: {
    built: number;
    previous: { source: string; ref?: string; line?: string; reason?: string };
    remoteLayers?: { kept: number; gone: number };
    trees: { tree: string; decision: string }[];
    layers: { digest: string; tree: string; reused: boolean; size: number }[];
  };
  push?: { record: { lineTag?: string }; bytesSent: number };
}

async function gl(cwd: string, ...args: string[]): Promise<BuildJson> {
  return JSON.parse((await run(BIN, [...args, '--json'], { cwd })).stdout) as BuildJson;
}

async function glFails(cwd: string, ...args: string[]): Promise<string> {
  const r = await run(BIN, args, { cwd }).then(
    () => undefined,
    (e: { stderr: string }) => e.stderr,
  );
  expect(r, `gamelayer ${args.join(' ')} should fail`).toBeDefined();
  return r!;
}

/** The day's change: one file edited in app, one added to app-media. */
async function applyChange(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'app/config/server.cfg'), 'port=4242\n');
  await writeFile(path.join(dir, 'app-media/levels/harbor/extra.pak'), Buffer.alloc(9000, 9));
}

const digests = (b: BuildJson) => b.images.map((i) => `${i.name}=${i.digest}`);
const blobGets = async () => (await registry.accessLog()).filter((e) => e.method === 'GET' && /\/blobs\/sha256:/.test(e.path)).map((e) => e.path.split('/blobs/')[1]!);

async function deleteBlob(repo: string, digest: string): Promise<void> {
  const res = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' });
  expect(res.status).toBe(202);
}

function blobData(digest: string): string {
  const hex = digest.slice(7);
  return path.join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

async function glWithStderr(cwd: string, ...args: string[]): Promise<{ json: BuildJson; stderr: string }> {
  const r = await run(BIN, [...args, '--json'], { cwd });
  return { json: JSON.parse(r.stdout) as BuildJson, stderr: r.stderr };
}

/** The record blob the line tag names (through its index and artifact manifest), read with skopeo. */
async function lineRecordBlob(repo: string, line: string): Promise<string> {
  const index = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:gamelayer-line.${line}`]).toString()) as {
    manifests: { digest: string; artifactType?: string }[];
  };
  const artifact = index.manifests.find((m) => m.artifactType)!;
  const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}@${artifact.digest}`]).toString()) as { layers: { digest: string }[] };
  return manifest.layers[0]!.digest;
}

/** Flips a byte of the line's record blob in the registry's storage folder; returns its digest. */
async function damageLineRecordBlob(repo: string, line: string): Promise<string> {
  const digest = await lineRecordBlob(repo, line);
  const file = blobData(digest);
  const bytes = await readFile(file);
  bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
  await writeFile(file, bytes);
  return digest;
}

describe('build --push on a fresh, a stale and a warm host', () => {
  it('plans on the newest record of the line in the registry: byte-identical images everywhere, no layer downloaded', async () => {
    const root = await tempDir();
    const repo = `${registry.host}/studio/lines`;
    const warm = path.join(root, 'warm');
    copySample(warm);
    // Yesterday's build, pushed on three lines of work (one per host below), so each host has the same previous.
    const v1 = await gl(warm, 'build', '--push', repo, '--tag', 'v1', '--line', 'a');
    for (const line of ['b', 'c']) expect(digests(await gl(warm, 'build', '--push', repo, '--tag', 'v1', '--line', line))).toEqual(digests(v1));
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/lines'))).toEqual(
      expect.arrayContaining(['gamelayer-line.a', 'gamelayer-line.b', 'gamelayer-line.c', 'v1.gamelayer-record']),
    );

    // A stale host: its .gamelayer/ holds an older local build of other sources.
    const stale = path.join(root, 'stale');
    copySample(stale);
    await writeFile(path.join(stale, 'app/config/server.cfg'), 'port=1\n');
    await writeFile(path.join(stale, 'engine-media/Engine/extra.bin'), Buffer.alloc(5000, 3));
    await gl(stale, 'build', '--tag', 'old');
    copySample(stale); // back to the sources of v1 (copying leaves the extra file: remove it)
    await run('rm', [path.join(stale, 'engine-media/Engine/extra.bin')]);
    const fresh = path.join(root, 'fresh');
    copySample(fresh);
    for (const d of [warm, stale, fresh]) await applyChange(d);

    await registry.resetAccessLog();
    const f = await gl(fresh, 'build', '--push', repo, '--tag', 'v2f', '--line', 'b');
    const freshGets = await blobGets();
    const w = await gl(warm, 'build', '--push', repo, '--tag', 'v2w', '--line', 'a');
    const s = await gl(stale, 'build', '--push', repo, '--tag', 'v2s', '--line', 'c');

    expect(f.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.b`, line: 'b' });
    expect(w.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.a` });
    expect(s.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.c` });
    for (const b of [f, w, s]) {
      expect(b.summary.trees.map((t) => `${t.tree}:${t.decision}`)).toEqual(['engine:unchanged', 'engine-media:unchanged', 'app:patched', 'app-media:patched']);
    }
    expect(digests(w)).toEqual(digests(f));
    expect(digests(s)).toEqual(digests(f));
    expect(digests(f)).not.toEqual(digests(v1));

    // The fresh host downloaded no layer: the blobs it read are the record, the server config for its platform, and
    // (once per record) the configs of the record's images, which prove the kept layers' diffIDs: the server image's
    // and the four tree images' (their marker layers are in no other image).
    const v1Layers = new Set(v1.summary.layers.map((l) => l.digest));
    expect(freshGets.filter((d) => v1Layers.has(d))).toEqual([]);
    expect(freshGets.length).toBeLessThanOrEqual(7);
    // Kept in the registry: the four trees' layers of v1 (app and app-media get a patch on top) and the sentinels of
    // the two unchanged trees.
    expect(f.summary.remoteLayers).toEqual({ kept: 6, gone: 0 });
    // Only the two patches and the two changed sentinels were built.
    expect(f.summary.built).toBe(4);
    expect(f.push!.record.lineTag).toBe('gamelayer-line.b');
    expect((await storedTags(registry.storageDir, 'studio/lines'))['gamelayer-line.b']).toBeDefined();
    expect(await storageProblems(registry.storageDir)).toEqual([]);

    // The fresh host's layout is partial, and says so.
    const index = JSON.parse(await readFile(path.join(fresh, '.gamelayer/oci/index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    const server = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === 'v2f')!;
    expect(server.annotations).toMatchObject({ 'dev.gamelayer.layout.partial': 'true', 'dev.gamelayer.blob-source': repo });

    // --from none: no previous build from the registry (nor a local one on this host): every tree planned afresh.
    const none = await gl(path.join(root, 'fresh'), 'build', '--from', 'none', '--tag', 'v2n');
    expect(none.summary.previous).toMatchObject({ source: 'local' });
    const fresh2 = path.join(root, 'fresh2');
    copySample(fresh2);
    const none2 = await gl(fresh2, 'build', '--from', 'none', '--push', repo, '--tag', 'v2x', '--line', 'b');
    expect(none2.summary.previous.source).toBe('none');
    expect(none2.summary.trees.every((t) => t.decision === 'fresh')).toBe(true);
  }, 300_000);

  it('a layer gone from the registry is rebuilt from the sources, never named by a manifest', async () => {
    const root = await tempDir();
    const repo = `${registry.host}/studio/gone`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1', '--line', 'main');
    const engine = v1.summary.layers.find((l) => l.tree === 'engine')!;
    await deleteBlob('studio/gone', engine.digest); // a lifecycle policy or a manual delete

    const b = path.join(root, 'b');
    copySample(b);
    await applyChange(b);
    const out = await run(BIN, ['build', '--push', repo, '--tag', 'v2', '--line', 'main'], { cwd: b });
    expect(out.stdout).toMatch(/previous build: .*gamelayer-line\.main \(line main\).*1 gone from it \(rebuilt\)/);
    // One layer "is" gone (it said "1 layer of … are gone").
    expect(out.stderr).toContain(`warning: 1 layer of ${repo}:gamelayer-line.main is gone from ${repo}: engine is rebuilt from the sources`);
    const v2 = JSON.parse(await readFile(path.join(b, '.gamelayer/records/build-v2.json'), 'utf8').then((t) => t.slice(t.indexOf('{')))) as {
      layers: { tree: string; digest: string }[];
    };
    expect(v2.layers.some((l) => l.tree === 'engine')).toBe(true);
    // The rebuilt engine layer is back in the repository (same bytes, same digest: the sources did not change).
    const head = await fetch(`${registry.url}/v2/studio/gone/blobs/${engine.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:v2`]);
  }, 300_000);

  it('a registry copy of a kept layer with the wrong size: the record is not built on, the push names the damaged copy, and nothing is pushed', async () => {
    await own(); // damages blob storage: a registry of its own
    const root = await tempDir();
    const repo = `${registry.host}/studio/shortblob`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1');
    const media = v1.summary.layers.find((l) => l.tree === 'engine-media')!;
    await truncate(blobData(media.digest), media.size - 100);
    const b = path.join(root, 'b');
    copySample(b);
    await applyChange(b);
    const before = await storedTags(registry.storageDir, 'studio/shortblob');
    const err = await glFails(b, 'build', '--push', repo, '--tag', 'v2');
    // Which is wrong, the record or the registry's copy, shows once the layer is built again: the record is not
    // built on (a blob's size is fixed by its digest), and the push then finds the registry's copy short.
    expect(err).toContain(
      `warning: the previous build record is damaged: ${repo}:gamelayer-line.default: layer ${media.digest} (engine-media layer 0) has ${media.size} bytes in the record, ${media.size - 100} in ${repo}; planning every tree afresh`,
    );
    expect(err).toContain(`error[registry.blob-size]: check blob ${media.digest} in studio/shortblob: studio/shortblob holds ${media.digest} with ${media.size - 100} bytes, the blob has ${media.size}: the registry's copy is damaged`);
    expect(err).toContain('hint: delete that blob (or the images using it) from the repository, then push again');
    expect(await storedTags(registry.storageDir, 'studio/shortblob')).toEqual(before);
  }, 300_000);

  it('a newer-format record of the line is a clear error (never "no earlier build"); --from none builds afresh', async () => {
    await own();
    const root = await tempDir();
    const repo = `${registry.host}/studio/badrecord`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1', '--line', 'main');
    const { fetchLineRecord, pushBuildRecord } = await import('../src/index.js');
    const found = (await fetchLineRecord(repo, 'main'))!;
    const server = v1.images.find((i) => i.name === 'server')!;
    const tagsBefore = await storedTags(registry.storageDir, 'studio/badrecord');

    // A record from a newer gamelayer under the line tag.
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: server.digest, size: 0 };
    subject.size = (await fetch(`${registry.url}/v2/studio/badrecord/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: subject.mediaType } }).then((r) => Number(r.headers.get('content-length'))));
    await pushBuildRecord({ to: repo, record: { ...found.record, schemaVersion: 2 } as never, subject, tags: [], line: 'newer' });
    const newer = await glFails(a, 'build', '--push', repo, '--tag', 'v2', '--line', 'newer');
    expect(newer).toContain('the build record has schemaVersion 2, written by a newer gamelayer');
    expect(newer).toContain('--from none');

    // Opting out builds and pushes afresh; the line tag moves to the new record.
    await applyChange(a);
    const none = await gl(a, 'build', '--from', 'none', '--push', repo, '--tag', 'v2', '--line', 'main');
    expect(none.summary.previous.source).not.toBe('registry');
    expect((await fetchLineRecord(repo, 'main'))!.record.tags[0]).toBe('v2');
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  }, 300_000);

  it('a damaged record of the line: the next build warns and plans afresh, and its push stores the record anew', async () => {
    await own();
    const root = await tempDir();
    const repo = `${registry.host}/studio/damagedrecord`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1', '--line', 'main');
    const { fetchLineRecord } = await import('../src/index.js');
    const damagedBlob = await damageLineRecordBlob(repo, 'main');

    // The buildspec's diff step before the build: a damaged record is an answer (the build plans afresh), not a
    // failure that stops the build that repairs it.
    const diff = await run(BIN, ['diff', '--against', repo, '--line', 'main'], { cwd: a });
    expect(diff.stdout).toContain(`the record of line "main" in ${repo} is damaged: every layer is new`);
    expect(diff.stderr).toMatch(/warning: the previous build record is damaged: .*the next build plans every tree afresh/);

    // The same sources again: planned afresh, the same images, and a record whose content (no tags, no date in the
    // blob, issue 16) is the damaged blob's; the push sees what the registry serves for it and stores it anew.
    const { json: v2, stderr } = await glWithStderr(a, 'build', '--push', repo, '--tag', 'v2', '--line', 'main');
    expect(stderr).toMatch(/warning: the previous build record is damaged: .*the record blob does not match its digest sha256:[0-9a-f]{64}; planning every tree afresh/);
    expect(stderr).toContain(`the registry served damaged bytes for the build record blob ${damagedBlob}; the record went up again as sha256:`);
    expect(v2.summary.previous.source).toBe('none');
    expect(v2.summary.trees.map((t) => t.decision)).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
    expect(digests(v2)).toEqual(digests(v1));
    const repaired = (await fetchLineRecord(repo, 'main'))!;
    expect(repaired.record.tags[0]).toBe('v2');
    expect(await lineRecordBlob(repo, 'main')).not.toBe(damagedBlob);

    // The next day plans on the repaired record, as a warm host would.
    await applyChange(a);
    const { json: v3, stderr: quiet } = await glWithStderr(a, 'build', '--push', repo, '--tag', 'v3', '--line', 'main');
    expect(quiet).not.toContain('damaged');
    expect(v3.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main` });
    expect(v3.summary.trees.map((t) => `${t.tree}:${t.decision}`)).toEqual(['engine:unchanged', 'engine-media:unchanged', 'app:patched', 'app-media:patched']);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  }, 300_000);

  it('pushBuildRecord checks the record blob it would skip: a damaged copy is never named again', async () => {
    await own();
    const root = await tempDir();
    const repo = `${registry.host}/studio/recordrepair`;
    const a = path.join(root, 'a');
    copySample(a);
    await gl(a, 'build', '--push', repo, '--tag', 'v1', '--line', 'main');
    const { fetchLineRecord, pushBuildRecord } = await import('../src/index.js');
    const { record, subject: subjectDigest } = (await fetchLineRecord(repo, 'main'))!;
    const head = await fetch(`${registry.url}/v2/studio/recordrepair/manifests/${subjectDigest}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subjectDigest, size: Number(head.headers.get('content-length')) };
    const first = await pushBuildRecord({ to: repo, record, subject, tags: [], line: 'api' });
    // The record read back is the one the build pushed, the same JSON: its blob is there already.
    expect(first.blobsUploaded).toBe(0);
    const damagedBlob = await damageLineRecordBlob(repo, 'api');

    // The same record again (what a rebuild of the same sources pushes): the damaged copy is not skipped.
    const pushed = await pushBuildRecord({ to: repo, record, subject, tags: [], line: 'api' });
    expect(pushed.repaired).toEqual({ damaged: damagedBlob, now: await lineRecordBlob(repo, 'api') });
    expect(pushed.blobsUploaded).toBe(1);
    expect(pushed.digest).not.toBe(first.digest);
    expect((await fetchLineRecord(repo, 'api'))!.record).toEqual(record);
    // Once stored anew, pushing it again uploads nothing and names the same record.
    const again = await pushBuildRecord({ to: repo, record, subject, tags: [], line: 'api' });
    expect(again.blobsUploaded).toBe(0);
    expect(again.digest).toBe(pushed.digest);
  }, 300_000);

  it('a partial layout: push to another repository of the registry mounts what it lacks; a blob gone everywhere is named', async () => {
    const root = await tempDir();
    const repo = `${registry.host}/studio/partial`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1');
    const fresh = path.join(root, 'fresh');
    copySample(fresh);
    await applyChange(fresh);
    const v2 = await gl(fresh, 'build', '--from', `${repo}:v1`, '--tag', 'v2'); // built here only, not pushed
    expect(v2.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:v1` });

    const other = `${registry.host}/studio/elsewhere`;
    // A tag with a build record pushes the whole build (issue 18): the image tagged v2 is the server image.
    const pushed = JSON.parse((await run(BIN, ['push', `${other}:v2`, '--json'], { cwd: fresh })).stdout) as { images: { digest: string; tags: string[] }[] };
    expect(pushed.images.find((i) => i.tags.includes('v2'))?.digest).toBe(v2.images.find((i) => i.name === 'server')!.digest);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${other}:v2`]);

    // A second partial build whose kept engine layer is then deleted from its source: a push elsewhere names it.
    const fresh2 = path.join(root, 'fresh2');
    copySample(fresh2);
    await gl(fresh2, 'build', '--from', `${repo}:v1`, '--tag', 'v1b');
    const engine = v1.summary.layers.find((l) => l.tree === 'engine')!;
    await deleteBlob('studio/partial', engine.digest);
    const err = await glFails(fresh2, 'push', `${registry.host}/studio/third:v1b`);
    expect(err).toContain(`lacks blob ${engine.digest}`);
    expect(err).toContain(`fetching it from ${repo} failed`);
    expect(await storedTags(registry.storageDir, 'studio/third')).toEqual({});
    // Pushing it back where it came from cannot fetch it either: the same blob, named, and nothing put.
    const back = await glFails(fresh2, 'push', `${repo}:v1b`);
    expect(back).toContain(`blob ${engine.digest}`);
    expect(back).toContain(`is neither in ${path.join(fresh2, '.gamelayer/oci')}`);
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/partial'))).not.toContain('v1b');
  }, 300_000);

  it('on ECR (the local ECR endpoint): the fresh host checks kept layers with BatchCheckLayerAvailability, downloads none', async () => {
    const ecr = await startFakeEcr();
    try {
      ecr.repositories.set('studio/ecrfresh', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
      const env = {
        ...process.env,
        HOME: await tempDir(),
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
        GAMELAYER_ECR_ENDPOINT: ecr.endpoint,
      };
      const repo = `${ecr.host}/studio/ecrfresh`;
      const ecrFlags = ['--ecr', '--region', 'eu-west-3', '--line', 'main'];
      const root = await tempDir();
      const a = path.join(root, 'a');
      copySample(a);
      const v1 = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', ...ecrFlags, '--json'], { cwd: a, env })).stdout) as BuildJson;
      const b = path.join(root, 'b');
      copySample(b);
      await applyChange(b);
      ecr.calls.length = 0;
      await ecr.registry.resetAccessLog();
      const v2 = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v2', ...ecrFlags, '--json'], { cwd: b, env })).stdout) as BuildJson;
      expect(v2.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main` });
      expect(v2.summary.remoteLayers).toEqual({ kept: 6, gone: 0 });
      const log = await ecr.registry.accessLog();
      const v1Layers = new Set(v1.summary.layers.map((l) => l.digest));
      // Presence and sizes came from BatchCheckLayerAvailability: no blob HEAD, and no layer downloaded.
      expect(log.filter((e) => e.method === 'HEAD' && e.path.includes('/blobs/'))).toEqual([]);
      expect(log.filter((e) => e.method === 'GET' && v1Layers.has(e.path.split('/blobs/')[1]!))).toEqual([]);
      const checked = ecr.calls.filter((c) => c.op === 'BatchCheckLayerAvailability').flatMap((c) => c.body.layerDigests as string[]);
      for (const d of v1Layers) expect(checked).toContain(d);
      expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    } finally {
      await ecr.stop();
    }
  }, 300_000);

  it('a blob a partial layout fetches is verified before it is named: damaged registry bytes are refused and not stored', async () => {
    await own();
    // Pushed to another registry: the blob is fetched (a push within the registry mounts it, bytes unread).
    const elsewhere = await startRegistry();
    extra.push(elsewhere);
    const root = await tempDir();
    const repo = `${registry.host}/studio/verify`;
    const a = path.join(root, 'a');
    copySample(a);
    const v1 = await gl(a, 'build', '--push', repo, '--tag', 'v1');
    const fresh = path.join(root, 'fresh');
    copySample(fresh);
    await gl(fresh, 'build', '--from', `${repo}:v1`, '--tag', 'v1b');
    const engine = v1.summary.layers.find((l) => l.tree === 'engine')!;
    const bytes = await readFile(blobData(engine.digest));
    bytes[200] = bytes[200]! ^ 0xff; // same size, other bytes
    await writeFile(blobData(engine.digest), bytes);
    const err = await glFails(fresh, 'push', `${elsewhere.host}/studio/verified:v1b`);
    expect(err).toContain(`lacks blob ${engine.digest}`);
    expect(err).toContain(`failed: blob ${engine.digest}: content hashes to sha256:`);
    expect(existsSync(path.join(fresh, '.gamelayer/oci/blobs/sha256', engine.digest.slice(7)))).toBe(false);
    expect(await storedTags(elsewhere.storageDir, 'studio/verified')).toEqual({});
  }, 300_000);
});
