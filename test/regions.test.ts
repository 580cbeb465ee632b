// Several regions (issue 21, item 3) with ECR replication: the real @aws-sdk/client-ecr against two local ECR
// endpoints (JSON protocol over HTTP, SigV4 checked, each in front of a real docker-registry). Where the source
// registry's replication rules cover the other region, the build is pushed once and the push waits until
// DescribeImageReplicationStatus reports every image COMPLETE there; k8s / ecs --region then pin that copy.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBuildToMany } from '../src/pipeline/steps/push-many.js';
import { isGamelayerError } from '../src/errors.js';
import { readBuildRecord } from '../src/state/records.js';
import { FAKE_ACCOUNT, FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { runCli } from './support/cli-process.js';
import { storageProblems, storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const fakes: FakeEcr[] = [];
afterAll(async () => Promise.all(fakes.map((f) => f.stop())));

async function project(): Promise<string> {
  const dir = await tempDir('gl-regions-');
  copySample(dir);
  const r = await runCli(['build', '--tag', 'v1'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

async function regions(repo: string) {
  const us = await startFakeEcr();
  const eu = await startFakeEcr();
  fakes.push(us, eu);
  us.repositories.set(repo, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
  const dest = (f: FakeEcr, region: string) => ({
    repository: `${f.host}/${repo}`,
    ecr: { force: true, region, endpoint: f.endpoint, registryId: FAKE_ACCOUNT, credentials: FAKE_CREDENTIALS },
  });
  return { us, eu, targets: [dest(us, 'us-east-1'), dest(eu, 'eu-west-1')] };
}

const writes = (f: FakeEcr) => f.frontSeen.filter((s) => s.method !== 'GET' && s.method !== 'HEAD');

let dir: string;
beforeAll(async () => {
  dir = await project();
}, 120_000);

describe('ECR replication', () => {
  it('pushes once, waits for COMPLETE in the other region, and k8s / ecs --region pin that copy', async () => {
    const { us, eu, targets } = await regions('studio/game');
    us.replication = [{ destinations: [{ region: 'eu-west-1', registryId: FAKE_ACCOUNT }] }];
    us.replicas.set('eu-west-1', { to: eu, afterPolls: 2 });
    const record = await readBuildRecord(path.join(dir, '.gamelayer/records/build-v1.json'));
    const progress: string[] = [];
    const reporter = { info: (m: string) => progress.push(m), warn: () => {}, task: () => ({ tick() {}, done() {} }) };
    const result = await pushBuildToMany({ store: path.join(dir, '.gamelayer/oci'), record, repositories: targets, stateDir: path.join(dir, '.gamelayer'), replicationPollMs: 10, reporter });

    expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'replicated']);
    // Nothing was sent to the destination region: its copy came from the source registry.
    expect(writes(eu)).toEqual([]);
    expect(writes(us).length).toBeGreaterThan(0);
    expect(us.calls.some((c) => c.op === 'DescribeRegistry')).toBe(true);
    const statusCalls = us.calls.filter((c) => c.op === 'DescribeImageReplicationStatus');
    // Six images (server, four trees, the record), each asked until its third answer (COMPLETE).
    expect(new Set(statusCalls.map((c) => (c.body.imageId as { imageDigest: string }).imageDigest)).size).toBe(6);
    expect(statusCalls.length).toBe(18);
    expect(progress.some((m) => /replication: waiting for eu-west-1 \(0\/6\)/.test(m))).toBe(true);
    expect(progress.some((m) => /complete in eu-west-1/.test(m))).toBe(true);
    expect(await storedTags(eu.registry.storageDir, 'studio/game')).toEqual(await storedTags(us.registry.storageDir, 'studio/game'));
    expect(await storageProblems(eu.registry.storageDir)).toEqual([]);

    // Deploy specs per region: the same digests, each region's host.
    const server = record.images.find((i) => i.name === 'server')!.digest;
    const euPod = await runCli(['k8s', '--region', 'eu-west-1'], { cwd: dir });
    expect(euPod.code, euPod.stderr).toBe(0);
    expect(euPod.stdout).toContain(`${eu.host}/studio/game:v1@${server}`);
    const trees = record.images.filter((i) => i.name !== 'server');
    expect(trees.length).toBe(4);
    for (const t of trees) expect(euPod.stdout).toContain(`image: ${eu.host}/studio/game@${t.digest}`);
    expect(euPod.stdout).not.toContain(us.host);
    const usPod = await runCli(['k8s', '--region', 'us-east-1'], { cwd: dir });
    expect(usPod.stdout).toContain(`${us.host}/studio/game:v1@${server}`);
    expect(usPod.stdout.replaceAll(us.host, eu.host)).toBe(euPod.stdout);
    const byHost = await runCli(['k8s', '--registry', eu.host], { cwd: dir });
    expect(byHost.stdout).toBe(euPod.stdout);
    const ecs = await runCli(['ecs', '--region', 'eu-west-1'], { cwd: dir });
    expect(ecs.code, ecs.stderr).toBe(0);
    const ecsImages = JSON.parse(ecs.stdout).containerDefinitions.map((c: { image: string }) => c.image) as string[];
    expect(ecsImages.length).toBeGreaterThan(0);
    for (const image of ecsImages) expect(image).toMatch(new RegExp(`^${eu.host.replace(/\./g, '\\.')}/studio/game[:@].*sha256:[0-9a-f]{64}$`));
    // imagedefinitions.json for CodePipeline's ECS deploy in that region (it had no --region).
    const defs = await runCli(['codebuild', 'imagedefinitions', '--region', 'eu-west-1'], { cwd: dir });
    expect(defs.code, defs.stderr).toBe(0);
    const defImages = (JSON.parse(defs.stdout) as { imageUri: string }[]).map((d) => d.imageUri);
    expect(defImages.length).toBeGreaterThan(0);
    for (const image of defImages) expect(image.startsWith(`${eu.host}/studio/game`)).toBe(true);
    const nowhere = await runCli(['k8s', '--region', 'ap-south-1'], { cwd: dir });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toContain('error[deploy.region]');
    expect(nowhere.stderr).toContain('no copy in region ap-south-1');
    // No --region, --repository or registry: in the config: two copies, and the error names each with its flag.
    for (const command of [['ecs'], ['k8s'], ['codebuild', 'imagedefinitions']]) {
      const unnamed = await runCli(command, { cwd: dir });
      expect(unnamed.code, unnamed.stdout).toBe(1);
      expect(unnamed.stderr).toContain(`error[deploy.repository]: ${path.join(dir, 'gamelayer.yaml')}: registry: not set, and this build was pushed to 2 repositories: ${us.host}/studio/game (us-east-1), ${eu.host}/studio/game (eu-west-1)`);
      expect(unnamed.stderr).toContain('hint: name it: --region us-east-1 or --region eu-west-1 (one spec per copy, each with its own --out)');
    }
    const otherHost = await runCli(['k8s', '--registry', '127.0.0.1:1', '--repository', `${us.host}/studio/game`], { cwd: dir });
    expect(otherHost.code).toBe(1);
    expect(otherHost.stderr).toContain('error[deploy.not-pushed]');
  }, 120_000);

  it('a destination that never gets the image: a timeout naming region and image, and no deploy spec for it', async () => {
    const d = await project();
    const { us, eu, targets } = await regions('studio/late');
    us.replication = [{ destinations: [{ region: 'eu-west-1', registryId: FAKE_ACCOUNT }] }];
    us.replicas.set('eu-west-1', { to: 'never' });
    const record = await readBuildRecord(path.join(d, '.gamelayer/records/build-v1.json'));
    const e = await pushBuildToMany({ store: path.join(d, '.gamelayer/oci'), record, repositories: targets, stateDir: path.join(d, '.gamelayer'), replicationTimeoutMs: 200, replicationPollMs: 20 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isGamelayerError(e) && e.code).toBe('push.targets-failed');
    const message = (e as Error).message;
    expect(message).toMatch(/eu-west-1 \(registry 123456789012\) still lacks studio\/late@sha256:[0-9a-f]{64}/);
    expect(message).toContain(`${us.host}/studio/late: pushed`);
    const cause = (e as { cause: { targets: { status: string; error?: { code: string } }[] } }).cause;
    expect(cause.targets.map((t) => t.status)).toEqual(['pushed', 'failed']);
    expect(cause.targets[1]!.error!.code).toBe('push.replication-timeout');
    expect(writes(eu)).toEqual([]);
    // The source region is deployable; the late one is not.
    expect((await runCli(['k8s', '--region', 'us-east-1'], { cwd: d })).code).toBe(0);
    const late = await runCli(['k8s', '--region', 'eu-west-1'], { cwd: d });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('error[deploy.region]');
  }, 120_000);

  it('a destination ECR reports FAILED: the wait stops at once with its failure code', async () => {
    const d = await project();
    const { us, targets } = await regions('studio/denied');
    us.replication = [{ destinations: [{ region: 'eu-west-1', registryId: FAKE_ACCOUNT }] }];
    us.replicas.set('eu-west-1', { to: 'failed' });
    const record = await readBuildRecord(path.join(d, '.gamelayer/records/build-v1.json'));
    const e = await pushBuildToMany({ store: path.join(d, '.gamelayer/oci'), record, repositories: targets, stateDir: path.join(d, '.gamelayer'), replicationPollMs: 10 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isGamelayerError(e) && e.code).toBe('push.targets-failed');
    const cause = (e as { cause: { targets: { status: string; error?: { code: string; message: string } }[] } }).cause;
    expect(cause.targets[1]!.error!.code).toBe('push.replication-failed');
    expect(cause.targets[1]!.error!.message).toMatch(/to eu-west-1 \(registry 123456789012\) failed: ACCESS_DENIED/);
    // One round of questions, not a wait until the bound.
    expect(new Set(us.calls.filter((c) => c.op === 'DescribeImageReplicationStatus').map((c) => JSON.stringify(c.body.imageId))).size).toBe(1);
  }, 120_000);

  it('rules that do not cover the repository (another prefix): each region is pushed directly', async () => {
    const d = await project();
    const { us, eu, targets } = await regions('studio/direct');
    eu.repositories.set('studio/direct', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    us.replication = [{ destinations: [{ region: 'eu-west-1', registryId: FAKE_ACCOUNT }], repositoryFilters: [{ filter: 'prod/', filterType: 'PREFIX_MATCH' }] }];
    us.replicas.set('eu-west-1', { to: eu });
    const record = await readBuildRecord(path.join(d, '.gamelayer/records/build-v1.json'));
    const result = await pushBuildToMany({ store: path.join(d, '.gamelayer/oci'), record, repositories: targets, stateDir: path.join(d, '.gamelayer') });
    expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);
    expect(us.calls.some((c) => c.op === 'DescribeImageReplicationStatus')).toBe(false);
    expect(eu.calls.some((c) => c.op === 'BatchCheckLayerAvailability')).toBe(true);
    expect(Object.values(result.reads).every((n) => n === 1)).toBe(true);
    expect(await storedTags(eu.registry.storageDir, 'studio/direct')).toEqual(await storedTags(us.registry.storageDir, 'studio/direct'));
  }, 120_000);
});
