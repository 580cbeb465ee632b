// The SBOM's hashes of a tree whose layers the store lacks come from its sources (source-files.ts): the same bytes as
// from the layers, for folder and tar.gz trees; a source that no longer matches its manifest (changed since the scan,
// same size) is not taken: that tree's layers are fetched and read, and the document still says what the image holds.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { OciStore } from '../src/oci/store.js';
import { serverImage } from '../src/sbom/attach.js';
import { makeSbom, type SbomInput } from '../src/sbom/cyclonedx.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { sampleGame, writeChunkablePak } from './support/sample.js';

/**
 * Builds the game of `config`; its SBOM from the layers, and `fresh()`, the SBOM of a host whose store lacks every
 * layer (what it fetched is kept in `fetched`, a list of digests per fetch). `fellBackTo(tree)` checks that one fetch
 * was made, of that tree's layers alone.
 */
async function sbomHosts(config: GameConfig) {
  const built = await build({ config });
  const store = await OciStore.open(built.store, { create: false });
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const input: SbomInput = { record: built.record, store, stateDir: config.stateDir, mounts, subject: serverImage(built.record), base: [] };
  const lacking = Object.assign(Object.create(store) as OciStore, { hasBlob: async () => false });
  const fetched: string[][] = [];
  const fetchLayers = async (layers: { digest: string }[]) => void fetched.push(layers.map((l) => l.digest));
  return {
    built,
    fetched,
    fromLayers: await makeSbom(input),
    fresh: () => makeSbom({ ...input, store: lacking, fetchLayers }),
    fellBackTo(tree: TreeName) {
      const layers = built.record.layers.filter((l) => l.tree === tree).map((l) => l.digest);
      expect(fetched.length).toBe(1);
      expect(fetched[0]!.every((d) => layers.includes(d))).toBe(true);
    },
  };
}

describe('SBOM hashes from the sources', () => {
  it('gives the document the layers give, and falls back to the layers for a tree whose source changed', async () => {
    const { game, config } = await sampleGame();
    const host = await sbomHosts(config);
    expect(host.built.record.manifests.some((m) => m.source.kind === 'archive')).toBe(true);

    // A store that holds none of the layers (a fresh host): every tree from its sources, nothing fetched.
    const fromSources = await host.fresh();
    expect(host.fetched).toEqual([]);
    expect(fromSources.bytes.equals(host.fromLayers.bytes)).toBe(true);

    // The app's config changed since the build, to bytes of the same size: the app tree's layers are fetched and read.
    const cfg = path.join(game, 'app/config/server.cfg');
    const old = await readFile(cfg);
    await writeFile(cfg, Buffer.from(old.toString('latin1').replace(/[a-z]/, (c) => (c === 'z' ? 'y' : 'z')), 'latin1'));
    expect((await readFile(cfg)).length).toBe(old.length);
    const fallback = await host.fresh();
    host.fellBackTo('app');
    expect(fallback.bytes.equals(host.fromLayers.bytes)).toBe(true);
  }, 120_000);

  it('a chunked tree: its recipes\' files from their sources and the record\'s chunk lists, the document the layers give; a changed big file falls back', async () => {
    const { game } = await sampleGame();
    const pak = await writeChunkablePak(game);
    const yaml = path.join(game, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('    source: ./app-media', '    source: ./app-media\n    chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}'));
    const host = await sbomHosts(await loadConfig(yaml));
    expect(host.built.record.manifests.find((m) => m.tree === 'app-media')!.recipes?.map((r) => r.path)).toEqual(['gamedata.pak']);
    expect(host.fromLayers.bytes.toString()).toContain('recipe.sha256');

    const fromSources = await host.fresh();
    expect(host.fetched).toEqual([]);
    expect(fromSources.bytes.equals(host.fromLayers.bytes)).toBe(true);

    // One byte of the big file changed since the build (same size): the chunked tree's layers are fetched and read.
    pak[pak.length >> 1] = pak[pak.length >> 1]! ^ 0xff;
    await writeFile(path.join(game, 'app-media/gamedata.pak'), pak);
    const fallback = await host.fresh();
    host.fellBackTo('app-media');
    expect(fallback.bytes.equals(host.fromLayers.bytes)).toBe(true);
  }, 120_000);
});
