// gamelayer run-local with a chunked app-media tree (issue 20), against the real Docker engine: the sample game on the
// busybox base, its app-media replaced by the chunked form of itself (test/support/chunked-tree.ts: the on-image
// format), built by gamelayer's own daemonless path, then run with `trees.app-media.chunks` set. The init copy
// assembles the paks and the engine's start.sh verifies every file of all four trees against app/checksums.sha256;
// with a damaged chunk the copy fails naming the file and the chunk, and the engine never starts.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { GAME_LABEL } from '../src/runlocal/execute.js';
import { runLocal } from '../src/runlocal/run-local.js';
import { build } from '../src/pipeline/build.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { addNativeAssembler, chunkPath, writeChunkedTree, type ChunkedTree } from './support/chunked-tree.js';
import { copySample, sampleYamlOn, writeChunkablePak } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'run-local-chunked-test';
const MIN_FILE_SIZE = 32 * 1024;
const docker = new Docker();
/** The copy's first line when it runs the native assembler. */
const NATIVE_LINE = 'copy-app-media: gamelayer: app-media: assembling with the native assembler (gamelayer-assemble 1 ';

/** run-local of `config`; its error and every container's log lines. */
async function runFailing(config: GameConfig): Promise<{ error: unknown; lines: string[] }> {
  const lines: string[] = [];
  try {
    await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init' }, logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
  } catch (error) {
    return { error, lines };
  }
  return { error: undefined, lines };
}

let work: string;
let baseRef: string;

/** The sample game with app-media stored chunked, changed by `edit`, built; then marked chunked for the deploy. */
async function game(name: string, edit: (appMedia: string, tree: ChunkedTree) => Promise<void> = async () => {}): Promise<{ config: GameConfig; tree: ChunkedTree }> {
  const dir = path.join(work, name);
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef));
  const appMedia = path.join(dir, 'app-media');
  const tree = await writeChunkedTree(appMedia, `${appMedia}.chunked`, { minFileSize: MIN_FILE_SIZE, chunkSize: 8192 });
  await rm(appMedia, { recursive: true });
  await rename(`${appMedia}.chunked`, appMedia);
  await edit(appMedia, tree);
  const config = await loadConfig(yaml);
  // Built as a plain tree holding the chunk store (what a chunked build puts in the layers), deployed as chunked.
  await build({ config });
  config.trees['app-media'].chunks = { minFileSize: MIN_FILE_SIZE, avgChunkSize: 1024 * 1024 };
  return { config, tree };
}

async function leftovers(): Promise<string[]> {
  const label = [`${GAME_LABEL}=${GAME}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Names[0]}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

async function removeGameImages(): Promise<void> {
  removeImagesAfterRun((await docker.listImages({ filters: { reference: [`${GAME}:*`, `localhost/${GAME}:*`] } })).flatMap((img) => img.RepoTags ?? []));
}

beforeAll(async () => {
  work = await tempDir('gl-run-local-chunked-');
  baseRef = await writeBusyboxLayout(path.join(work, 'busybox-layout'));
  await removeGameImages();
}, 120_000);

afterAll(async () => {
  expect(await leftovers()).toEqual([]);
  await removeGameImages();
});

describe('gamelayer run-local with a chunked tree (real Docker engine)', () => {
  it('the init copy assembles the chunked paks, then the engine verifies every file of all four trees', async () => {
    const { config, tree } = await game('good');
    expect(tree.files.map((f) => f.path).sort()).toEqual(['gamedata.pak', 'levels/forest/level.pak', 'textures.pak']);
    const lines: string[] = [];
    const r = await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init' }, logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(r.exitCode).toBe(0);
    expect(lines).toContain('copy-app-media: gamelayer: app-media: copied to /mnt/app-media, big files assembled from their chunks');
    expect(lines).toContain('copy-app: gamelayer: app: copied to /mnt/app');
    expect(lines.some((l) => /^engine: app-media: OK \(\d+ files verified\)$/.test(l))).toBe(true);
    expect(lines).toContain('engine: sample-game: all four trees verified under /opt/local; server ready');
    expect(await leftovers()).toEqual([]);
  }, 300_000);

  it('end to end: a chunked build (trees.app-media.chunks in gamelayer.yaml) runs: the init copy assembles what the build chunked', async () => {
    const dir = path.join(work, 'built-chunked');
    copySample(dir);
    // A 2 MiB pak (the sample's are too small to chunk), listed in the engine's checksum list like every file.
    await writeChunkablePak(dir);
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(
      yaml,
      sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef)
        .replace('    source: ./app-media', '    source: ./app-media\n    chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}'),
    );
    const config = await loadConfig(yaml);
    const result = await build({ config });
    const appMedia = result.record.manifests.find((m) => m.tree === 'app-media')!;
    const chunkEntries = appMedia.entries.filter((e) => e.path.startsWith('.gamelayer-chunks/c/'));
    expect(chunkEntries.length).toBeGreaterThan(8); // 2 MiB at ~64 KiB chunks
    expect(appMedia.entries.some((e) => e.path === 'gamedata.pak')).toBe(false); // the pak itself is not in the layers
    const lines: string[] = [];
    const r = await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init' }, logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(r.exitCode).toBe(0);
    expect(lines).toContain('copy-app-media: gamelayer: app-media: copied to /mnt/app-media, big files assembled from their chunks');
    expect(lines).toContain('engine: sample-game: all four trees verified under /opt/local; server ready');
    // The chunked build put the native assembler into the tree image, and the init copy ran it.
    expect(lines.some((l) => l.startsWith(NATIVE_LINE))).toBe(true);
    expect(await leftovers()).toEqual([]);
  }, 300_000);

  it('a damaged chunk: the copy fails naming the file and the chunk, the engine never starts', async () => {
    const { config } = await game('damaged', async (appMedia, tree) => {
      const pak = tree.files.find((f) => f.path === 'gamedata.pak')!;
      const chunk = path.join(appMedia, chunkPath(pak.chunks[1]!.sha256));
      const bytes = await readFile(chunk);
      bytes[0] = bytes[0]! ^ 1;
      await writeFile(chunk, bytes);
    });
    const lines: string[] = [];
    let error: unknown;
    try {
      await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init' }, logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GamelayerError);
    expect((error as GamelayerError).code).toBe('run.init-failed');
    expect((error as GamelayerError).message).toContain('init container copy-app-media failed');
    expect(lines.join('\n')).toMatch(/^copy-app-media: gamelayer: app-media: gamedata\.pak \(recipe \/opt\/local\/app-media\/\.gamelayer-chunks\/r\/gamedata\.pak\): chunk 2 \([0-9a-f]{64}\): its bytes hash to [0-9a-f]{64}: .* is damaged$/m);
    expect(lines.some((l) => l.startsWith('engine:'))).toBe(false);
    expect(await leftovers()).toEqual([]);
  }, 300_000);

  // The same bad input with the native assembler in the tree image (where a chunked build puts it): it names the
  // file and the chunk as the sh path does, the copy fails, and the engine never starts.
  const nativeBad: { label: string; edit: (appMedia: string, tree: ChunkedTree) => Promise<void>; message: RegExp }[] = [
    {
      label: 'a recipe naming a missing chunk',
      edit: async (appMedia, tree) => {
        const pak = tree.files.find((f) => f.path === 'textures.pak')!;
        await rm(path.join(appMedia, chunkPath(pak.chunks.at(-1)!.sha256)));
      },
      message: /^copy-app-media: gamelayer: app-media: textures\.pak \(recipe \/opt\/local\/app-media\/\.gamelayer-chunks\/r\/textures\.pak\): chunk \d+ \([0-9a-f]{64}\) is missing: no \/opt\/local\/app-media\/\.gamelayer-chunks\/c\/[0-9a-f]{2}\/[0-9a-f]{64} in this image$/m,
    },
    {
      label: 'a chunk whose bytes do not match its hash',
      edit: async (appMedia, tree) => {
        const pak = tree.files.find((f) => f.path === 'gamedata.pak')!;
        const chunk = path.join(appMedia, chunkPath(pak.chunks[1]!.sha256));
        const bytes = await readFile(chunk);
        bytes[0] = bytes[0]! ^ 1;
        await writeFile(chunk, bytes);
      },
      message: /^copy-app-media: gamelayer: app-media: gamedata\.pak \(recipe \/opt\/local\/app-media\/\.gamelayer-chunks\/r\/gamedata\.pak\): chunk 2 \([0-9a-f]{64}\): its bytes hash to [0-9a-f]{64}: .* is damaged$/m,
    },
  ];
  for (const [i, b] of nativeBad.entries()) {
    it(`native assembler, ${b.label}: the copy fails naming the file and the chunk, the engine never starts`, async () => {
      const { config } = await game(`native-bad${i}`, async (appMedia, tree) => {
        await b.edit(appMedia, tree);
        await addNativeAssembler(appMedia);
      });
      const { error, lines } = await runFailing(config);
      expect(error).toBeInstanceOf(GamelayerError);
      expect((error as GamelayerError).code).toBe('run.init-failed');
      expect((error as GamelayerError).message).toContain('init container copy-app-media failed');
      expect(lines.some((l) => l.startsWith(NATIVE_LINE))).toBe(true);
      expect(lines.join('\n')).toMatch(b.message);
      expect(lines).toContain('copy-app-media: gamelayer: app-media: a file could not be assembled from its chunks: /mnt/app-media is incomplete and gets no .complete');
      expect(lines.some((l) => l.startsWith('engine:'))).toBe(false);
      expect(await leftovers()).toEqual([]);
    }, 300_000);
  }
});
