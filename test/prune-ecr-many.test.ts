// prune --apply on ECR with more to delete than one BatchDeleteImage call takes (100 images): a repository of many
// cheap builds (test/support/many-builds.ts: every image an index, a build's image listing its tree images, referrers
// indexes listing SBOMs) on the fake ECR, which refuses, as ECR does, to delete an image an index there still lists
// (ImageReferencedByManifestList). The deletes go in several calls of at most 100, every index a call before what it
// lists, and leave exactly what the plan keeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { writeLineTag, writeManyBuilds, type ManyBuilds } from './support/many-builds.js';
import { readStoredBlob, storedManifests, storedTags } from './support/registry.js';

let ecr: FakeEcr;
let made: ManyBuilds;
const REPO = 'studio/many';
const FEW = 'studio/read-once';
const AWS_ENV = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-3' };

beforeAll(async () => {
  ecr = await startFakeEcr();
  ecr.repositories.set(REPO, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
  ecr.repositories.set(FEW, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
  const user = ecr.registry.users[0]!;
  const headers = { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` };
  made = await writeManyBuilds(ecr.registry.url, REPO, 80, { headers });
  await writeManyBuilds(ecr.registry.url, FEW, 20, { headers });
  await writeLineTag(ecr.registry.url, REPO, 'main', 'b00079', headers);
}, 120_000);
afterAll(async () => {
  await ecr?.stop();
});

describe('prune --apply on ECR, more than 100 images to delete', () => {
  it('deletes in calls of at most 100, each index a call before what it lists, and keeps what the plan keeps', async () => {
    const repo = `${ecr.host}/${REPO}`;
    const flags = ['--ecr', '--endpoint', ecr.endpoint];
    const before = await storedTags(ecr.registry.storageDir, REPO);
    const dry = await runCli(['prune', repo, '--keep', '10', '--json', ...flags], { env: AWS_ENV });
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { kept: { tags: string[] }[]; deleted: { digest: string; tags: string[] }[]; attached: { digest: string; tags: string[] }[]; untagged: string[] };
    expect(plan.kept).toHaveLength(10);
    expect(plan.deleted.length + plan.attached.length).toBeGreaterThan(200);

    // Which manifest each index in the repository lists, before the prune.
    const listed = new Map<string, string[]>();
    for (const d of await storedManifests(ecr.registry.storageDir, REPO)) {
      const doc = JSON.parse((await readStoredBlob(ecr.registry.storageDir, d))!.toString('utf8')) as { manifests?: { digest: string }[] };
      listed.set(d, (doc.manifests ?? []).map((m) => m.digest));
    }
    const from = ecr.calls.length;
    const applied = await runCli(['prune', repo, '--keep', '10', '--apply', ...flags], { env: AWS_ENV });
    expect(applied.code, applied.stderr).toBe(0);
    // Progress of the deletes (stderr is a pipe): lines as the BatchDeleteImage calls go, all counted at the end.
    const total = Number(/^prune delete: \d+\/(\d+) \(\d+%\)$/m.exec(applied.stderr)?.[1]);
    expect(total, applied.stderr).toBeGreaterThan(200);
    expect(applied.stderr).toMatch(new RegExp(`^prune delete: ${total} images and tags \\(`, 'm'));

    const calls = ecr.calls.slice(from).filter((c) => c.op === 'BatchDeleteImage').map((c) => c.body.imageIds as { imageDigest?: string; imageTag?: string }[]);
    for (const c of calls) expect(c.length).toBeLessThanOrEqual(100);
    const byDigest = calls.filter((c) => c.every((i) => i.imageDigest));
    expect(byDigest.length).toBeGreaterThan(3);
    // Every manifest deleted went in a later call than every index that listed it (the fake refused otherwise, and
    // prune would have failed; checked here from the calls themselves).
    const callOf = new Map(byDigest.flatMap((c, n) => c.map((i) => [i.imageDigest!, n] as const)));
    let pairs = 0;
    for (const [index, children] of listed) {
      for (const child of children) {
        if (!callOf.has(child)) continue;
        expect(callOf.has(index), `${child} deleted while ${index}, which lists it, stays`).toBe(true);
        expect(callOf.get(index)!).toBeLessThan(callOf.get(child)!);
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(100);
    // Exactly the plan's deletes and untags happened.
    const gone = new Set([...plan.deleted, ...plan.attached].flatMap((e) => e.tags).concat(plan.untagged));
    const after = Object.keys(await storedTags(ecr.registry.storageDir, REPO)).sort();
    expect(after).toEqual(Object.keys(before).filter((t) => !gone.has(t)).sort());
    for (const b of plan.kept) for (const t of b.tags) expect(after).toContain(t);
    expect((await runCli(['prune', repo, '--keep', '10', '--json', ...flags], { env: AWS_ENV }).then((r) => JSON.parse(r.stdout) as typeof plan)).deleted).toEqual([]);
    expect(made.builds).toHaveLength(80);
  });

  it('reads each manifest once: the deletes list the indexes prune read to plan, not a second GET of each', async () => {
    const repo = `${ecr.host}/${FEW}`;
    const flags = ['--ecr', '--endpoint', ecr.endpoint];
    const digestOfTag = await storedTags(ecr.registry.storageDir, FEW);
    const from = ecr.frontSeen.length;
    const applied = await runCli(['prune', repo, '--keep', '3', '--apply', ...flags], { env: AWS_ENV });
    expect(applied.code, applied.stderr).toBe(0);
    // Every manifest GET of the run, by the digest it names (a tag's as it was before the prune).
    const prefix = `/v2/${FEW}/manifests/`;
    const gets = ecr.frontSeen
      .slice(from)
      .filter((r) => r.method === 'GET' && r.path.startsWith(prefix))
      .map((r) => decodeURIComponent(r.path.slice(prefix.length).split('?')[0]!))
      .map((ref) => (ref.startsWith('sha256:') ? ref : digestOfTag[ref] ?? ref));
    const twice = [...new Set(gets.filter((d, i) => gets.indexOf(d) !== i))];
    expect(twice, `${gets.length} manifest GETs, ${new Set(gets).size} manifests`).toEqual([]);
    // The deletes happened (the fake refuses an index's child before the index: the lists read once were right).
    expect(ecr.calls.slice(-1)[0]?.op).toBe('BatchDeleteImage');
    const left = await runCli(['prune', repo, '--keep', '3', '--json', ...flags], { env: AWS_ENV });
    expect((JSON.parse(left.stdout) as { deleted: unknown[] }).deleted).toEqual([]);
  });
});
