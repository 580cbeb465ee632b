// The library's push of a build (pushBuild, as `build --push` runs it): an upload refused while the step's other uploads are still retrying a registry that
// answers 503 (or queued behind them). The CLI exits once its error is printed (src/cli/launch.ts), but
// pushBuild() itself waited for the step to settle (nothing may be left writing behind a failed push): every other upload ran
// out its retries (GAMELAYER_REGISTRY_RETRIES attempts, seconds of back-off each), and the queued ones were still
// started and retried, before it rejected. The first failure now cancels the step's other requests (an
// AbortSignal through the registry client: no new attempt, no back-off wait, no queued upload started);
// pushBuild() rejects with that failure once they have stopped, nothing left running.
import { cp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { storageProblems } from './support/registry.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';

const net = useRegistryBehindFaultProxy();
const ATTEMPTS = 8;
let saved: string | undefined;
beforeAll(() => {
  saved = process.env.GAMELAYER_REGISTRY_RETRIES;
  process.env.GAMELAYER_REGISTRY_RETRIES = String(ATTEMPTS);
});
afterAll(() => {
  if (saved === undefined) delete process.env.GAMELAYER_REGISTRY_RETRIES;
  else process.env.GAMELAYER_REGISTRY_RETRIES = saved;
});

describe('pushBuild() when the registry refuses one upload of several', () => {
  it('rejects with that refusal, the other uploads cancelled rather than retried to the end', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
    const repo = `${net.proxy.host}/studio/cancels`;
    // The build is pushed as `build --push` does (pushBuild). The first upload is refused (400: not retried); every other one is answered 503 (retried, with back-off).
    net.proxy.setRules([
      { method: 'POST', path: /\/blobs\/uploads\/$/, action: { kind: 'status', status: 400 } },
      { method: 'POST', path: /\/blobs\/uploads\/$/, count: 10_000, action: { kind: 'status', status: 503 } },
    ]);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const built = await build({ config, tag: 'v1' });
    const failure = await pushBuild({ store: built.store, record: built.record, repository: repo, stateDir: config.stateDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(GamelayerError);
    expect(String((failure as Error).message)).toMatch(/400/);
    // The sample game pushes a dozen blobs, 4 at a time. Retried to the end, the others made ATTEMPTS requests each
    // (the first three while the refused one was out, then every queued one): 80 and more. Cancelled, each that was
    // out stops before its next attempt, and none queued starts.
    expect(net.proxy.fired[1]).toBeLessThan(ATTEMPTS);
    await net.proxy.idle();
    expect(await storageProblems(net.registry.storageDir)).toEqual([]);
  }, 120_000);
});
