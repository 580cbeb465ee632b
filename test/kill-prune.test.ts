// kill -9 of `gamelayer prune --apply` at several points of its deletes, beyond the first one
// (test/kill-sign-prune.test.ts): half-way through the images, after the last image before what is attached to
// them, after a referrers index before its SBOMs, before the record manifests; on a CNCF registry, the kill held at
// one DELETE by a proxy; and on ECR (the fake, real AWS SDK, refusing as ECR does to delete an image an index lists)
// before and while each of its BatchDeleteImage calls after the untag (the indexes', the images', the record
// manifests'), ECR having carried out the held call or not. After each kill the registry stores no manifest with a missing blob or child, and the next prune
// --apply completes and leaves exactly the tags and manifests one uninterrupted run leaves.
import { execFileSync } from 'node:child_process';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killWhen, runCli, startCli } from './support/cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { runCliKilledAtRequest } from './support/kill-at-request.js';
import { startRegistry, storageProblems, storedManifests, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { PRUNE_DELETE_CONCURRENCY } from '../src/registry/prune-waves.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let ecr: FakeEcr;
let dir: string;
/** The deletes of prune --keep 1 in the order it makes them (src/registry/prune.ts). */
let order: { digest: string; kind: 'image' | 'signature' | 'sbom' | 'referrers index' | 'record' }[];

const TEMPLATE = 'studio/prune-template';
const AWS_ENV = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-3' };
const v2 = (storage: string) => path.join(storage, 'docker/registry/v2');

/** Storages (other than the registry's) the template's blobs were copied to: once each, the copy is a few hundred ms. */
const blobsIn = new Set<string>();

/** A copy of the template repository (three builds, signed, with SBOMs) named `to` in `storage`. */
async function copyRepo(to: string, storage = registry.storageDir): Promise<void> {
  // The template's blobs never change after the beforeAll, and no test deletes blobs (prune deletes manifests).
  if (storage !== registry.storageDir && !blobsIn.has(storage)) {
    await cp(path.join(v2(registry.storageDir), 'blobs'), path.join(v2(storage), 'blobs'), { recursive: true, force: false });
    blobsIn.add(storage);
  }
  await mkdir(path.dirname(path.join(v2(storage), 'repositories', to)), { recursive: true });
  await cp(path.join(v2(registry.storageDir), 'repositories', TEMPLATE), path.join(v2(storage), 'repositories', to), { recursive: true });
}

async function state(storage: string, repo: string) {
  return { tags: await storedTags(storage, repo), manifests: await storedManifests(storage, repo) };
}

beforeAll(async () => {
  [registry, ecr] = await Promise.all([startRegistry(), startFakeEcr()]);
  proxy = await startFaultProxy(registry.host);
  dir = await tempDir('gl-kill-prune-');
  const keys = path.join(dir, 'keys');
  await mkdir(keys);
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem', 'sh', keys]);
  const game = path.join(dir, 'game');
  await cp('fixtures/sample-game', game, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  for (const v of ['v1', 'v2', 'v3']) {
    execFileSync('sh', ['-c', `head -c 4000 /dev/zero | tr '\\0' '${v[1]}' > "$1"`, 'sh', path.join(game, `app-media/levels/${v}.dat`)]);
    const r = await runCli(['build', '--tag', v, '--push', `${registry.host}/${TEMPLATE}`, '--sbom', '--sign', path.join(keys, 'key.pem')], { cwd: game });
    expect(r.code, r.stderr).toBe(0);
  }
  const dry = await runCli(['prune', `${registry.host}/${TEMPLATE}`, '--keep', '1', '--json'], { cwd: dir });
  expect(dry.code, dry.stderr).toBe(0);
  const plan = JSON.parse(dry.stdout) as { deleted: { digest: string; tags: string[] }[]; attached: { digest: string; what: 'signature' | 'sbom' | 'referrers index' }[] };
  const isRecord = (e: { tags: string[] }) => e.tags.some((t) => t.endsWith('.gamelayer-record'));
  order = [
    ...plan.deleted.filter((e) => !isRecord(e)).map((e) => ({ digest: e.digest, kind: 'image' as const })),
    ...plan.attached.map((a) => ({ digest: a.digest, kind: a.what })),
    ...plan.deleted.filter(isRecord).map((e) => ({ digest: e.digest, kind: 'record' as const })),
  ];
  // v1 and v2 go: their server and app-media images, each signed with an SBOM (itself signed) and its index.
  expect(order.filter((o) => o.kind === 'image').length).toBeGreaterThanOrEqual(4);
  expect(order.filter((o) => o.kind === 'sbom')).toHaveLength(2);
}, 180_000);
afterAll(async () => {
  await proxy?.stop();
  await Promise.all([registry?.stop(), ecr?.stop()]);
});

describe('kill -9 during prune --apply on a registry', () => {
  let reference: Awaited<ReturnType<typeof state>>;
  beforeAll(async () => {
    await copyRepo('studio/prune-reference');
    const r = await runCli(['prune', `${registry.host}/studio/prune-reference`, '--keep', '1', '--apply'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    reference = await state(registry.storageDir, 'studio/prune-reference');
  }, 60_000);

  // Its DELETEs, in order: the record indexes (after each record tag moved to its record manifest,
  // src/registry/prune-records.ts), the images, what was attached (a referrers index before its SBOMs), the records.
  const count = (kind: string) => order.filter((o) => o.kind === kind).length;
  const images = () => count('record') + count('image');
  const points: { name: string; deletesBefore: () => number }[] = [
    { name: 'after the first record tag\'s move, before its index\'s DELETE', deletesBefore: () => 0 },
    { name: 'half-way through the images', deletesBefore: () => count('record') + Math.floor(count('image') / 2) },
    { name: 'after the last image, before what was attached', deletesBefore: images },
    { name: 'after a referrers index, before the SBOMs it lists', deletesBefore: () => images() + order.filter((o) => o.kind !== 'image' && o.kind !== 'record').findIndex((o) => o.kind === 'sbom') },
    { name: 'before the record manifests', deletesBefore: () => images() + order.filter((o) => o.kind !== 'image' && o.kind !== 'record').length },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const name = `studio/prune-${i}`;
    const repo = `${proxy.host}/${name}`;
    await copyRepo(name);
    const before = await storedManifests(registry.storageDir, name);
    const n = points[i]!.deletesBefore();
    // Killed as the delete after the first n reaches the proxy (held, never passed on, as are any after it).
    const at = { method: 'DELETE', path: new RegExp(`^/v2/${name}/manifests/sha256:[0-9a-f]{64}$`), nth: n + 1, at: 'arrived' } as const;
    const killed = await runCliKilledAtRequest(proxy, at, ['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(killed.killed, JSON.stringify(killed)).toBe(true);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    // The deletes before the held one were made, give or take those of its wave in flight beside it (deletes run
    // PRUNE_DELETE_CONCURRENCY at once since stop 41: one before it may still be on its way, one after it may have
    // gone); what must hold whatever the timing is the storage check above.
    // Counted among the manifests it found: prune adds its notes of the tags it leaves (prune-left-notes.ts).
    const now = await storedManifests(registry.storageDir, name);
    const made = before.filter((d) => !now.includes(d)).length;
    expect(made).toBeGreaterThanOrEqual(Math.max(0, n - (PRUNE_DELETE_CONCURRENCY - 1)));
    expect(made).toBeLessThanOrEqual(n + PRUNE_DELETE_CONCURRENCY - 1);

    const again = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    expect(await state(registry.storageDir, name)).toEqual(reference);
  });
});

describe('kill -9 during prune --apply on ECR', () => {
  const flags = () => ['--ecr', '--endpoint', ecr.endpoint];
  let reference: Awaited<ReturnType<typeof state>>;
  /** The BatchDeleteImage calls of one uninterrupted run: what each deletes (tag or digest). */
  let calls: string[][];
  beforeAll(async () => {
    await copyRepo('studio/prune-reference', ecr.registry.storageDir);
    ecr.repositories.set('studio/prune-reference', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const from = ecr.calls.length;
    const r = await runCli(['prune', `${ecr.host}/studio/prune-reference`, '--keep', '1', '--apply', ...flags()], { cwd: dir, env: AWS_ENV });
    expect(r.code, r.stderr).toBe(0);
    reference = await state(ecr.registry.storageDir, 'studio/prune-reference');
    calls = ecr.calls.slice(from).filter((c) => c.op === 'BatchDeleteImage').map((c) => (c.body.imageIds as { imageDigest?: string; imageTag?: string }[]).map((i) => i.imageTag ?? i.imageDigest!));
  }, 60_000);

  it('deletes each index a call before what it lists: untag, indexes, images and attachments, record manifests', () => {
    const digestsOf = (what: string) => order.filter((o) => o.kind === what).map((o) => o.digest).sort();
    expect(calls).toHaveLength(4);
    expect(calls[0]!.every((t) => !t.startsWith('sha256:'))).toBe(true);
    // The record indexes (the records' digests in the plan) and the referrers indexes first.
    expect([...calls[1]!].sort()).toEqual([...digestsOf('record'), ...digestsOf('referrers index')].sort());
    expect([...calls[2]!].sort()).toEqual([...digestsOf('image'), ...digestsOf('signature'), ...digestsOf('sbom')].sort());
    expect(calls[3]).toHaveLength(count('record'));
  });
  const count = (kind: string) => order.filter((o) => o.kind === kind).length;

  it('on a repository with immutable tags: the record indexes go with their tags (ECR refuses moving one), same result', async () => {
    const name = 'studio/prune-ecr-immutable';
    await copyRepo(name, ecr.registry.storageDir);
    ecr.repositories.set(name, { mutability: 'IMMUTABLE', scanOnPush: false, createdAt: Date.now() });
    const r = await runCli(['prune', `${ecr.host}/${name}`, '--keep', '1', '--apply', ...flags()], { cwd: dir, env: AWS_ENV });
    expect(r.code, r.stderr).toBe(0);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    expect(await state(ecr.registry.storageDir, name)).toEqual(reference);
  });

  // Immutable tags: the record tags cannot move, so each record manifest is tagged `<tag>.gamelayer-pruned` before
  // its index goes with its record tag; killed before the images went, the next prune finds the builds by those tags
  // and finishes (before, it listed the images as tags of no build and never deleted them).
  const immutablePoints: { name: string; after: number; processed: boolean }[] = [
    { name: 'after the untag call and the records\' marks, before the indexes\' call', after: 1, processed: false },
    { name: 'while ECR answers the indexes\' call (ECR did it; the answer is lost)', after: 1, processed: true },
    { name: 'after the indexes\' call, before the images\' call', after: 2, processed: false },
    { name: 'before the record manifests\' call', after: 3, processed: false },
  ];
  /** The reference repository copied to `name`, its tags of this mutability. */
  async function seedRepo(name: string, mutability: 'MUTABLE' | 'IMMUTABLE'): Promise<void> {
    await copyRepo(name, ecr.registry.storageDir);
    ecr.repositories.set(name, { mutability, scanOnPush: false, createdAt: Date.now() });
  }

  /**
   * `prune --keep 1 --apply` of `name`, killed at `point`: the BatchDeleteImage call after `point.after` others is held
   * (before ECR does it, or once done with its answer held back: `processed`). Returns what lets the held call go.
   */
  async function killPruneAt(name: string, point: { after: number; processed: boolean }): Promise<() => void> {
    let release = () => {};
    const until = new Promise<void>((r) => (release = r));
    const hold = { op: 'BatchDeleteImage', after: point.after, until, processed: point.processed, held: 0, answered: 0 };
    ecr.hold = hold;
    const run = startCli(['prune', `${ecr.host}/${name}`, '--keep', '1', '--apply', ...flags()], { cwd: dir, env: AWS_ENV });
    const killed = await killWhen(run, () => (hold.processed ? hold.answered > 0 : hold.held > 0), { pollMs: 2 });
    ecr.hold = undefined;
    expect(killed.killed, JSON.stringify(killed)).toBe(true);
    return release;
  }

  it.each(immutablePoints.map((p, i) => [i, p.name] as const))('immutable tags, point %i: %s', async (i) => {
    const name = `studio/prune-ecr-immutable-${i}`;
    await seedRepo(name, 'IMMUTABLE');
    const release = await killPruneAt(name, immutablePoints[i]!);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    const marks = Object.keys((await state(ecr.registry.storageDir, name)).tags).filter((t) => t.endsWith('.gamelayer-pruned')).sort();
    expect(marks).toEqual(['v1.gamelayer-pruned', 'v2.gamelayer-pruned']);

    const dry = await runCli(['prune', `${ecr.host}/${name}`, '--keep', '1', '--json', ...flags()], { cwd: dir, env: AWS_ENV });
    const plan = JSON.parse(dry.stdout) as { removed: { tag: string; interrupted?: boolean }[]; unclaimed: string[] };
    expect(plan.removed.map((b) => [b.tag, b.interrupted])).toEqual([['v2', true], ['v1', true]]);
    expect(plan.unclaimed).toEqual([]);
    // --keep 3 would keep all three builds: what the killed prune had decided to remove goes all the same.
    const again = await runCli(['prune', `${ecr.host}/${name}`, '--keep', '3', '--apply', ...flags()], { cwd: dir, env: AWS_ENV });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('finished removing 2 builds an interrupted prune had begun: v2, v1');
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    expect(await state(ecr.registry.storageDir, name)).toEqual(reference);
    release();
  });

  // `after`: the BatchDeleteImage calls let through before the one held (the first is the untag).
  const points: { name: string; after: number; processed: boolean }[] = [
    { name: 'after the untag call and the record tags\' moves, before the indexes\' call', after: 1, processed: false },
    { name: 'while ECR answers the indexes\' call (ECR did it; the answer is lost)', after: 1, processed: true },
    { name: 'after the indexes\' call, before the images\' call', after: 2, processed: false },
    { name: 'while ECR answers the images\' call (ECR did it; the answer is lost)', after: 2, processed: true },
    { name: 'before the record manifests\' call', after: 3, processed: false },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const name = `studio/prune-ecr-${i}`;
    await seedRepo(name, 'MUTABLE');
    const before = await state(ecr.registry.storageDir, name);
    const point = points[i]!;
    const release = await killPruneAt(name, point);
    // No manifest names a missing one: ECR would not have let it happen, and the fake refuses as ECR does.
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    const mid = await state(ecr.registry.storageDir, name);
    // The shared tags are off; the manifests are all there before the first delete by digest, fewer after.
    expect(Object.keys(mid.tags).length).toBeLessThan(Object.keys(before.tags).length);
    if (point.after === 1 && !point.processed) expect(mid.manifests).toEqual(before.manifests);
    else expect(mid.manifests.length).toBeLessThan(before.manifests.length);

    const again = await runCli(['prune', `${ecr.host}/${name}`, '--keep', '1', '--apply', ...flags()], { cwd: dir, env: AWS_ENV });
    expect(again.code, again.stderr).toBe(0);
    expect(await storageProblems(ecr.registry.storageDir)).toEqual([]);
    expect(await state(ecr.registry.storageDir, name)).toEqual(reference);
    release();
  });
});
