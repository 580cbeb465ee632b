// gamelayer prune against a real registry (docker-registry with deletes enabled) and against the fake ECR (the real
// AWS SDK: BatchDeleteImage, PutLifecyclePolicy): old builds go, kept builds stay whole, a dry run touches nothing.
import { execFileSync } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { readStoredBlob, startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let ecr: FakeEcr;
beforeAll(async () => {
  [registry, ecr] = await Promise.all([startRegistry(), startFakeEcr()]);
  ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
}, 60_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), ecr?.stop()]);
});

const AWS_ENV = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-3' };

/** The sample game built and pushed three times to `repo`, app-media changed each time. */
async function threeBuilds(repo: string, extra: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  for (const v of ['v1', 'v2', 'v3']) {
    await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
    const r = await runCli(['build', '--tag', v, '--push', repo, ...extra], { cwd: dir, env });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  }
  return dir;
}

const tagsOf = (storage: string, repo: string) => storedTags(storage, repo).then((t) => Object.keys(t).sort());
const buildTags = (v: string) => [v, `${v}-app`, `${v}-app-media`, `${v}-engine`, `${v}-engine-media`, `${v}.gamelayer-record`];
/** build --push moves this tag to the newest record of the (default) line (issue 15); prune never deletes it. */
const LINE_TAG = 'gamelayer-line.default';

describe('gamelayer prune on a registry', () => {
  it('dry run by default; --apply deletes old builds by digest, keeps the newest whole', async () => {
    const repo = `${registry.host}/studio/game`;
    const dir = await threeBuilds(repo);
    const before = await tagsOf(registry.storageDir, 'studio/game');
    expect(before).toEqual([...buildTags('v1'), ...buildTags('v2'), ...buildTags('v3'), LINE_TAG].sort());

    const dry = await runCli(['prune', repo, '--keep', '1', '--json', '--exit-code'], { cwd: dir });
    expect(dry.code).toBe(3);
    const plan = JSON.parse(dry.stdout);
    expect(plan.kept.map((b: { tag: string }) => b.tag)).toEqual(['v3']);
    expect(plan.removed.map((b: { tag: string }) => b.tag)).toEqual(['v2', 'v1']);
    // engine, engine-media and app images did not change: v1's and v2's tags name v3's images and cannot go alone.
    expect(plan.left).toEqual(['v1-app', 'v1-engine', 'v1-engine-media', 'v2-app', 'v2-engine', 'v2-engine-media']);
    expect(await tagsOf(registry.storageDir, 'studio/game')).toEqual(before);

    const applied = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    // Only its steps (stderr is a pipe: a line each; progress lines only for a slow one).
    const step = (label: string, end: string) => `(?:${label}: \\d+/\\d+ \\(\\d+%\\)\\n)*${label}: ${end} \\(\\d+\\.\\d\\ds\\)\\n`;
    expect(applied.stderr).toMatch(new RegExp(`^${step('prune read', '3 records, \\d+ tags')}${step('prune delete', '\\d+ manifests')}$`));
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('deleted 2 builds: v2, v1 (6 manifests)');
    // With prune's notes of the tags it left (prune-left-notes.ts): what lets a later prune delete them.
    expect(await tagsOf(registry.storageDir, 'studio/game')).toEqual([...buildTags('v3'), LINE_TAG, 'v1-app', 'v1-engine', 'v1-engine-media', 'v2-app', 'v2-engine', 'v2-engine-media', 'v1.gamelayer-left', 'v2.gamelayer-left'].sort());
    const stored = await storedTags(registry.storageDir, 'studio/game');
    expect(stored[LINE_TAG]).toBe(stored['v3.gamelayer-record']);
    // The kept build is whole for an independent client, and its record still reads.
    for (const t of buildTags('v3').filter((t) => !t.endsWith('record'))) {
      execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${repo}:${t}`]);
    }
    const v3 = await runCli(['inspect', `${repo}:v3`, '--json'], { cwd: dir });
    expect(JSON.parse(v3.stdout).tags).toEqual(['v3']);
    // Gone for a client too.
    expect(() => execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${repo}:v1`], { stdio: 'pipe' })).toThrow();
    expect((await runCli(['prune', repo, '--keep', '1', '--exit-code'], { cwd: dir })).code).toBe(0);

    // A newer build on another line: --keep 1 keeps it, and the default line's newest build too (its line tag
    // names it; the line's next build --push reads it), so nothing goes.
    await writeFile(path.join(dir, 'app-media/levels/v4.dat'), Buffer.alloc(4000, 52));
    const v4 = await runCli(['build', '--tag', 'v4', '--push', repo, '--line', 'hotfix'], { cwd: dir });
    expect(v4.code, v4.stderr).toBe(0);
    const lines = JSON.parse((await runCli(['prune', repo, '--keep', '1', '--json'], { cwd: dir })).stdout);
    expect(lines.kept.map((b: { tag: string }) => b.tag)).toEqual(['v4', 'v3']);
    expect(lines.removed).toEqual([]);
    expect(lines.deleted).toEqual([]);
  }, 240_000);
});

describe('gamelayer prune on ECR', () => {
  it('untags shared images, deletes the rest through BatchDeleteImage, and applies the lifecycle policy', async () => {
    const repo = `${ecr.host}/studio/game`;
    const flags = ['--ecr', '--endpoint', ecr.endpoint];
    const dir = await threeBuilds(repo, flags, AWS_ENV);
    const before = await storedTags(ecr.registry.storageDir, 'studio/game');
    const r = await runCli(['prune', repo, '--keep', '2', '--apply', '--json', ...flags], { cwd: dir, env: AWS_ENV });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.untagged).toEqual(['v1-app', 'v1-engine', 'v1-engine-media']);
    expect(out.left).toEqual([]);
    // ECR refuses to delete an image an index in the repository lists (ImageReferencedByManifestList): the untag, then
    // the record index (its tag moved to the record manifest first), then the image it listed, the record manifest last.
    const ids = (c: { body: Record<string, unknown> }) => (c.body.imageIds as { imageDigest?: string; imageTag?: string }[]).map((i) => i.imageTag ?? i.imageDigest);
    const recordIndex = JSON.parse((await readStoredBlob(ecr.registry.storageDir, before['v1.gamelayer-record']!))!.toString('utf8')) as { manifests: { digest: string; platform?: { os?: string } }[] };
    const recordManifest = recordIndex.manifests.find((m) => m.platform?.os === 'unknown')!.digest;
    expect(recordIndex.manifests.map((m) => m.digest)).toContain(before['v1']);
    expect(ecr.calls.filter((c) => c.op === 'BatchDeleteImage').map(ids)).toEqual([
      ['v1-app', 'v1-engine', 'v1-engine-media'],
      [before['v1.gamelayer-record']],
      [before['v1'], before['v1-app-media']],
      [recordManifest],
    ]);
    expect(await tagsOf(ecr.registry.storageDir, 'studio/game')).toEqual([...buildTags('v2'), ...buildTags('v3'), LINE_TAG].sort());

    const printed = await runCli(['prune', repo, '--lifecycle-policy', 'print', '--json', ...flags], { cwd: dir, env: AWS_ENV });
    expect(printed.code).toBe(0);
    const policy = JSON.parse(printed.stdout).policy;
    expect(policy.rules).toEqual([expect.objectContaining({ selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }, action: { type: 'expire' } })]);
    expect(ecr.repositories.get('studio/game')!.lifecyclePolicy).toBeUndefined();
    const applied = await runCli(['prune', repo, '--lifecycle-policy', 'apply', '--expire-days', '3', ...flags], { cwd: dir, env: AWS_ENV });
    expect(applied.code).toBe(0);
    expect(JSON.parse(ecr.repositories.get('studio/game')!.lifecyclePolicy!).rules[0].selection.countNumber).toBe(3);

    const notEcr = await runCli(['prune', `${registry.host}/other/game`, '--lifecycle-policy', 'apply'], { cwd: dir });
    expect(notEcr.code).toBe(2);
    expect(notEcr.stderr).toMatch(/^error\[cli\.lifecycle-policy\]: --lifecycle-policy apply: 127\.0\.0\.1:\d+ is not Amazon ECR\n/);
  }, 240_000);
});
