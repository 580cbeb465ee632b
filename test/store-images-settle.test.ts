// storeImages writes every image of a build side by side: when one write fails, the error surfaces only once every
// other write has settled, so nothing of the build is still being written behind a failed command (as push.ts does).
// The failure is real: the server image's config digest is taken by a folder in the store, so its rename fails.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { blobPath, REF_NAME } from '../src/oci/layout.js';
import { TREE_NAMES } from '../src/types.js';
import { copySample, sampleConfig } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** The config and manifest digests of the store's image `tag`. */
async function imageDocs(store: string, tag: string): Promise<{ manifest: string; config: string }> {
  const index = JSON.parse(await readFile(path.join(store, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const manifest = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag)!.digest;
  const config = (JSON.parse(await readFile(blobPath(store, manifest), 'utf8')) as { config: { digest: string } }).config.digest;
  return { manifest, config };
}

describe('storeImages with one failing image write', () => {
  it('reports the failure only after every other image is written: no temp file left, every tree image there', async () => {
    // The same game built once elsewhere: the digests each image's documents get (builds are deterministic).
    const reference = path.join(await tempDir(), 'game');
    copySample(reference);
    const referenceConfig = await sampleConfig(reference);
    await build({ config: referenceConfig, tag: 'v1' });
    const server = await imageDocs(referenceConfig.store, 'v1');
    const trees = await Promise.all(TREE_NAMES.map((t) => imageDocs(referenceConfig.store, `v1-${t}`)));

    const game = path.join(await tempDir(), 'game');
    copySample(game);
    const config = await sampleConfig(game);
    // A folder (not empty) where the server image's config goes: renaming the written config onto it fails.
    const trap = blobPath(config.store, server.config);
    await mkdir(trap, { recursive: true });
    await writeFile(path.join(trap, 'occupied'), '');

    const error = await build({ config, tag: 'v1' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    // At the moment the error surfaced: every tree image's config and manifest written, no write half done.
    const present = trees.flatMap((t) => [t.config, t.manifest]).filter((d) => existsSync(blobPath(config.store, d)));
    const temps = await readdir(path.join(config.store, '.tmp')).catch(() => []);
    expect(present).toHaveLength(trees.length * 2);
    expect(temps).toEqual([]);
  });
});
