// A store whose server image lost its config blob: the push names the image and the missing digest (a clear
// GamelayerError, not a bare ENOENT) and fails before any tag of the build is set, whether the registry already
// holds that config (a push of the same content under a new tag) or the tags already name the build (a no-op push).
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { blobPath, REF_NAME } from '../src/oci/layout.js';
import { storedTags } from './support/registry.js';
import { copySample, sampleConfig } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

/** Deletes the config blob of the store's image `tag`; returns its digest. */
async function dropConfig(store: string, tag: string): Promise<string> {
  const index = JSON.parse(await readFile(path.join(store, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const top = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag)!;
  const manifest = JSON.parse(await readFile(blobPath(store, top.digest), 'utf8')) as { config: { digest: string } };
  await rm(blobPath(store, manifest.config.digest));
  return manifest.config.digest;
}

async function pushError(run: () => Promise<unknown>): Promise<GamelayerError> {
  const e = await run().then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('push of a store missing the server image config', () => {
  it('a new tag: fails naming the image and the digest, and the registry holds no manifest for the tag', async () => {
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    const repo = `${registry.host}/studio/missing-config`;
    const opts = { insecure: true };
    const first = await build({ config, tag: 'v1', registry: opts });
    await pushBuild({ ...opts, store: first.store, record: first.record, repository: repo });
    const second = await build({ config, tag: 'v2', registry: opts });
    const digest = await dropConfig(second.store, 'v2');

    const e = await pushError(() => pushBuild({ ...opts, store: second.store, record: second.record, repository: repo }));
    expect(e.code).toBe('layout.missing-blob');
    expect(e.message).toContain(digest);
    expect(e.message).toContain('v2');
    const tags = await storedTags(registry.storageDir, 'studio/missing-config');
    expect(Object.keys(tags).filter((t) => t.startsWith('v2'))).toEqual([]);
  });

  it('a no-op push (every tag already there): the same clear error, no tag moved', async () => {
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    const repo = `${registry.host}/studio/missing-config-noop`;
    const opts = { insecure: true };
    const first = await build({ config, tag: 'v1', line: 'main', registry: opts });
    await pushBuild({ ...opts, store: first.store, record: first.record, repository: repo });
    const before = await storedTags(registry.storageDir, 'studio/missing-config-noop');
    const digest = await dropConfig(first.store, 'v1');

    const e = await pushError(() => pushBuild({ ...opts, store: first.store, record: first.record, repository: repo }));
    expect(e.code).toBe('layout.missing-blob');
    expect(e.message).toContain(digest);
    expect(await storedTags(registry.storageDir, 'studio/missing-config-noop')).toEqual(before);
  });
});
