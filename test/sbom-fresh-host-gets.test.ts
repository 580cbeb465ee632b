// `build --push --sbom` on a fresh host (no .gamelayer/, a new HOME) downloaded every layer the build kept, every
// day, to read the SBOM's file hashes from them: the whole game per build. The hashes of a tree whose layers this
// host lacks now come from its sources (a folder, the engine's tar.gz), checked against the manifest (source-files.ts).
// Counted at the registry: no GET of a layer blob; and the document is byte for byte the one the same build's layers
// give (copied into the store afterwards). A chunked tree (trees.<tree>.chunks) too: its big files are recipes in the
// image, each listed with the sha256 of its file and of its recipe, now read from the source and the record's lists.
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { OciStore } from '../src/oci/store.js';
import { makeBuildSbom } from '../src/sbom/attach.js';
import { readBuildRecord, recordsDir } from '../src/state/records.js';
import { runCli } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { readStoredBlob } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const fx = useCountingRegistry('stream');

/** app-media chunked (files of 256 KiB and more), with one such file of bytes that chunk. */
async function chunkAppMedia(dir: string, big: Buffer): Promise<void> {
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('    source: ./app-media', '    source: ./app-media\n    chunks: {minFileSize: 256KiB, avgChunkSize: 64KiB}'));
  await writeFile(path.join(dir, 'app-media/big.bin'), big);
}

describe('build --push --sbom on a fresh host', () => {
  it.each([
    ['', false],
    [' (a chunked tree)', true],
  ])('downloads no kept layer, and attaches the SBOM the layers give%s', async (_, chunked) => {
    const repo = `${fx.proxy.host}/studio/sbom-gets${chunked ? '-chunked' : ''}`;
    const day0Host = await tempDir('gl-sbom-gets-day0-');
    const fresh = await tempDir('gl-sbom-gets-fresh-');
    copySample(day0Host);
    copySample(fresh);
    if (chunked) {
      const big = randomBytes(600_000);
      await chunkAppMedia(day0Host, big);
      await chunkAppMedia(fresh, big);
    }
    const day0 = await runCli(['build', '--tag', 'd0', '--push', repo, '--line', 'main', '--sbom'], { cwd: day0Host, env: { HOME: await tempDir('gl-sbom-gets-home-') } });
    expect(day0.code, day0.stderr).toBe(0);
    await appendFile(path.join(fresh, 'app/config/server.cfg'), 'max_players=64\n');

    fx.proxy.reset();
    const daily = await runCli(['build', '--tag', 'd1', '--push', repo, '--line', 'main', '--sbom'], { cwd: fresh, env: { HOME: await tempDir('gl-sbom-gets-home-') } });
    expect(daily.code, daily.stderr).toBe(0);
    const config = await loadConfig(path.join(fresh, 'gamelayer.yaml'));
    const record = await readBuildRecord(path.join(recordsDir(config.stateDir), 'build-last.json'));
    const layers = new Set(record.layers.map((l) => l.digest));
    const blobGets = fx.proxy.seen.filter((s) => s.method === 'GET' && /\/blobs\/sha256:/.test(s.path));
    const layerGets = blobGets.filter((s) => layers.has(s.path.slice(s.path.lastIndexOf('/') + 1)));
    expect(layerGets.length, blobGets.map((s) => s.path).join('\n')).toBe(0);
    if (chunked) expect(record.manifests.find((m) => m.tree === 'app-media')!.recipes?.map((r) => r.path)).toEqual(['big.bin']);

    // The SBOM of the same build made from its layers: the kept ones copied into this host's store from the registry.
    const store = await OciStore.open(config.store, { create: false });
    let copied = 0;
    for (const l of record.layers) {
      if (await store.hasBlob(l.digest, l.size)) continue;
      await store.putBlob(Readable.from([(await readStoredBlob(fx.registry.storageDir, l.digest))!]), { digest: l.digest, size: l.size });
      copied++;
    }
    expect(copied).toBeGreaterThan(0);
    const fromLayers = await makeBuildSbom(config, store, record);
    const out = path.join(fresh, 'attached.cdx.json');
    const attached = await runCli(['sbom', `${repo}:d1`, '-o', out], { cwd: fresh });
    expect(attached.code, attached.stderr).toBe(0);
    expect((await readFile(out)).equals(fromLayers.bytes)).toBe(true);
    // The chunked file is listed at its own path with its recipe's sha256 (read from the layers above: the same bytes).
    if (chunked) expect(fromLayers.bytes.toString()).toContain('recipe.sha256');
  }, 300_000);
});
