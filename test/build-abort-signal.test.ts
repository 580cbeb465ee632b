// Library: build takes an AbortSignal. A service cancelling a superseded job could only wait for the build to end
// (minutes for a big game): the signal stops it mid-layer, leaves no partial blob, no tag and no record of this build,
// rejects with build.aborted, and the next build gives the images an uncancelled build gives.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGamelayerError } from '../src/errors.js';
import { build } from '../src/pipeline/build.js';
import { silentReporter, type Reporter } from '../src/report/reporter.js';
import { prng } from './support/prng.js';
import { sampleGame } from './support/sample.js';

async function storeTags(store: string): Promise<string[]> {
  const index = JSON.parse(await readFile(path.join(store, 'index.json'), 'utf8').catch(() => '{"manifests":[]}')) as { manifests: { annotations?: Record<string, string> }[] };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
}

describe('build with an AbortSignal', () => {
  it('aborted while a layer is written: build.aborted, no partial blob, tag or record; the next build is whole', async () => {
    const { config } = await sampleGame();
    // A layer of several MiB, so the first progress comes while its tar is still being written.
    await writeFile(path.join(path.dirname(config.file), 'app-media', 'big.pak'), prng('abort', 24 * 1024 * 1024));
    const controller = new AbortController();
    const reporter: Reporter = { ...silentReporter, task: (label) => ({ tick: () => void (label.startsWith('build ') && controller.abort()), done() {} }) };
    const err = await build({ config, tag: 'v1', reporter, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(controller.signal.aborted).toBe(true);
    expect(isGamelayerError(err) && err.code).toBe('build.aborted');
    expect((await storeTags(config.store)).filter((t) => t.startsWith('v1'))).toEqual([]);
    expect(existsSync(path.join(config.stateDir, 'records', 'build-v1.json'))).toBe(false);
    const temps = await readdir(path.join(config.store, '.tmp')).catch(() => []);
    expect(temps).toEqual([]);

    const again = await build({ config, tag: 'v1' });
    const reference = await sampleGame();
    await writeFile(path.join(path.dirname(reference.config.file), 'app-media', 'big.pak'), prng('abort', 24 * 1024 * 1024));
    const whole = await build({ config: reference.config, tag: 'v1' });
    expect(again.record.images.map((i) => i.digest)).toEqual(whole.record.images.map((i) => i.digest));
  });

  it('a signal aborted before the call builds nothing', async () => {
    const { config } = await sampleGame();
    const err = await build({ config, tag: 'v1', signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isGamelayerError(err) && err.code).toBe('build.aborted');
    expect(existsSync(path.join(config.stateDir, 'records', 'build-v1.json'))).toBe(false);
  });
});
