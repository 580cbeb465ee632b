// Library: pushBuildToMany (one build to several repositories) took no AbortSignal of its own, where build and
// pushBuild do: the blob phase ran to its end for every target whatever the caller said, and the error was
// push.targets-failed. Now the signal stops every target: uploads in flight are cut and none starts, no manifest or
// tag goes up anywhere, the error is push.aborted, and the next push completes the build in each repository.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGamelayerError } from '../src/errors.js';
import { build } from '../src/pipeline/build.js';
import { pushBuildToMany } from '../src/pipeline/steps/push-many.js';
import { silentReporter, type Reporter } from '../src/report/reporter.js';
import { FAKE_ACCOUNT, FAKE_CREDENTIALS, startFakeEcr } from './support/fake-ecr.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';
import { sampleGame } from './support/sample.js';

let reg: TestRegistry;
beforeAll(async () => void (reg = await startRegistry()));
afterAll(async () => reg?.stop());

describe('pushBuildToMany with an AbortSignal', () => {
  it('aborted at the first uploaded bytes: push.aborted, no tag in any repository, few uploads; the next push completes both', async () => {
    const { config } = await sampleGame();
    const built = await build({ config });
    const repos = ['studio/many-aborted-a', 'studio/many-aborted-b'];
    const repositories = repos.map((r) => `${reg.host}/${r}`);
    const controller = new AbortController();
    const reporter: Reporter = { ...silentReporter, task: () => ({ tick: () => controller.abort(), done() {} }) };
    await reg.resetAccessLog();
    const err = await pushBuildToMany({ store: built.store, record: built.record, repositories, reporter, signal: controller.signal, replication: 'off' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(controller.signal.aborted).toBe(true);
    expect(isGamelayerError(err) && err.code).toBe('push.aborted');
    for (const r of repos) expect(Object.keys(await storedTags(reg.storageDir, r))).toEqual([]);
    // The blob phase stopped too: fewer uploads than one repository's share of the build's blobs (it sent them all).
    const layers = new Set(built.record.layers.map((l) => l.digest));
    expect(await reg.completedUploads()).toBeLessThan(layers.size);

    const pushed = await pushBuildToMany({ store: built.store, record: built.record, repositories, replication: 'off' });
    expect(pushed.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);
    for (const r of repos) expect(Object.keys(await storedTags(reg.storageDir, r))).toEqual(expect.arrayContaining([...built.record.tags, `${built.record.tags[0]}.gamelayer-record`]));
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('a signal aborted before the call asks and sends nothing', async () => {
    const { config } = await sampleGame();
    const built = await build({ config });
    await reg.resetAccessLog();
    const repositories = [`${reg.host}/studio/many-never-a`, `${reg.host}/studio/many-never-b`];
    const err = await pushBuildToMany({ store: built.store, record: built.record, repositories, signal: AbortSignal.abort(), replication: 'off' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGamelayerError(err) && err.code).toBe('push.aborted');
    expect(await reg.accessLog()).toEqual([]);
  });

  it('aborted during the wait for ECR replication: push.aborted, and the wait ends there', async () => {
    const { config } = await sampleGame();
    const built = await build({ config });
    const [us, eu] = [await startFakeEcr(), await startFakeEcr()];
    try {
      const repo = 'studio/many-replicated';
      us.repositories.set(repo, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
      us.replication = [{ destinations: [{ region: 'eu-west-1', registryId: FAKE_ACCOUNT }] }];
      // The copy never arrives: without the abort the wait lasts its whole timeout.
      us.replicas.set('eu-west-1', { to: 'never' });
      const dest = (f: typeof us, region: string) => ({ repository: `${f.host}/${repo}`, ecr: { force: true, region, endpoint: f.endpoint, registryId: FAKE_ACCOUNT, credentials: FAKE_CREDENTIALS } });
      const controller = new AbortController();
      const polls = () => us.calls.filter((c) => c.op === 'DescribeImageReplicationStatus').length;
      const reporter: Reporter = {
        ...silentReporter,
        info: (m: string) => {
          if (/replication: waiting/.test(m)) controller.abort();
        },
      };
      const err = await pushBuildToMany({
        store: built.store,
        record: built.record,
        repositories: [dest(us, 'us-east-1'), dest(eu, 'eu-west-1')],
        reporter,
        signal: controller.signal,
        replicationTimeoutMs: 3_600_000,
        replicationPollMs: 10,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(controller.signal.aborted).toBe(true);
      expect(isGamelayerError(err) && err.code, String(err)).toBe('push.aborted');
      // The wait had begun (the source was pushed, ECR asked about its copy) and the copy never comes: the call
      // returned within an hour's timeout because the abort ended the wait.
      expect(polls()).toBeGreaterThan(0);
    } finally {
      await Promise.all([us.stop(), eu.stop()]);
    }
  }, 120_000);
});
