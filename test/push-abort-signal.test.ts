// Library: pushBuild takes an AbortSignal, as runLocal does. A service cancelling a superseded job could only let
// the push run to its end (minutes for a big build): the signal stops it, uploads in flight are cut, no manifest or
// tag goes up after it fired, the error says so with a code, and the next push completes the build.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGamelayerError } from '../src/errors.js';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { silentReporter, type Reporter } from '../src/report/reporter.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';
import { sampleGame } from './support/sample.js';

let reg: TestRegistry;
beforeAll(async () => void (reg = await startRegistry()));
afterAll(async () => reg?.stop());

describe('pushBuild with an AbortSignal', () => {
  it('aborted at the first uploaded bytes: push.aborted, no tag in the repository; the next push completes it', async () => {
    const { config } = await sampleGame();
    const built = await build({ config });
    const repository = `${reg.host}/studio/aborted`;
    const controller = new AbortController();
    // Fired from inside the push, at its first progress: the moment a service's cancel would come.
    const reporter: Reporter = { ...silentReporter, task: () => ({ tick: () => controller.abort(), done() {} }) };
    const err = await pushBuild({ store: built.store, record: built.record, repository, reporter, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(controller.signal.aborted).toBe(true);
    expect(isGamelayerError(err) && err.code).toBe('push.aborted');
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/aborted'))).toEqual([]);

    const pushed = await pushBuild({ store: built.store, record: built.record, repository });
    expect(pushed.images.map((i) => i.digest)).toEqual(built.record.images.map((i) => i.digest));
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/aborted'))).toEqual(expect.arrayContaining([...built.record.tags, `${built.record.tags[0]}.gamelayer-record`]));
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('a signal aborted before the call sends nothing', async () => {
    const { config } = await sampleGame();
    const built = await build({ config });
    const err = await pushBuild({ store: built.store, record: built.record, repository: `${reg.host}/studio/never`, signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGamelayerError(err) && err.code).toBe('push.aborted');
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/never'))).toEqual([]);
  });
});
