// A chunked tree built for real: its tree image, unpacked by umoci, holds exactly the chunks and recipes of the
// format (concatenated, they are the source files); a partial rewrite of a big file pushes, counted where a real
// registry receives it, only the new chunks plus small overhead; and the targets that need whole files refuse it.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkPath, parseRecipe } from '../src/chunk/recipe.js';
import { loadConfig } from '../src/config/load.js';
import { chunkDiff } from '../src/diff/chunks.js';
import { diffManifests } from '../src/diff/diff.js';
import { workingTrees } from '../src/diff/states.js';
import { pullCost } from '../src/diff/pull-cost.js';
import { loadBuild } from '../src/docker/load.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { podTemplate } from '../src/k8s/pod.js';
import { k8sOptions } from '../src/k8s/options.js';
import { imageDefinitions } from '../src/codebuild/imagedefinitions.js';
import { build } from '../src/pipeline/build.js';
import { diffDetails, pullCostTable } from '../src/cli/commands/diff-format.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { tempDir } from './support/tmp.js';
import { useRegistryBehindProxy } from './support/registry-behind-proxy.js';
import { prng } from './support/prng.js';

const KiB = 1024;
const MiB = 1024 * KiB;


let paks: { a: Buffer; b: Buffer } | undefined;

async function makeGame(dir: string): Promise<void> {
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
  await writeFile(path.join(dir, 'engine-media/e.dat'), 'engine media');
  await writeFile(path.join(dir, 'app/app.cfg'), 'app');
  await mkdir(path.join(dir, 'app-media/paks'), { recursive: true });
  // Incompressible, so compressed layer bytes measure chunk bytes. Made once: every game gets the same bytes.
  paks ??= { a: prng('a', 6 * MiB + 100), b: prng('b', 5 * MiB) };
  await writeFile(path.join(dir, 'app-media/paks/a.pak'), paks.a);
  await writeFile(path.join(dir, 'app-media/paks/b.pak'), paks.b);
  await writeFile(path.join(dir, 'app-media/readme.txt'), 'small files stay whole');
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    [
      'game: chunky',
      'version: 1.0.0',
      'start: /opt/local/engine/start.sh',
      'trees:',
      '  engine: {source: engine}',
      '  engine-media: {source: engine-media}',
      '  app: {source: app}',
      '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}',
      '',
    ].join('\n'),
  );
}

/** Every regular file under dir (relative path → bytes). */
async function filesUnder(dir: string, rel = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) for (const [k, v] of await filesUnder(dir, p)) out.set(k, v);
    else if (d.isFile()) out.set(p, await readFile(path.join(dir, p)));
  }
  return out;
}

/** The tree image of `tag`, unpacked by umoci: no whole big file, a recipe per big file, exactly the chunks they name. */
async function expectExactChunks(root: string, store: string, tag: string, dir: string): Promise<void> {
  const bundle = path.join(root, `bundle-${tag}`);
  execFileSync('umoci', ['unpack', '--rootless', '--image', `${store}:${tag}-app-media`, bundle], { stdio: 'pipe' });
  const tree = path.join(bundle, 'rootfs/opt/local/app-media');
  const files = await filesUnder(tree);
  expect(files.has('paks/a.pak')).toBe(false);
  expect(files.get('readme.txt')?.toString()).toBe('small files stay whole');
  const wanted = new Set<string>();
  for (const big of ['paks/a.pak', 'paks/b.pak']) {
    const recipe = parseRecipe(files.get(`.gamelayer-chunks/r/${big}`)!.toString(), big);
    const source = await readFile(path.join(dir, 'app-media', big));
    const joined = Buffer.concat(recipe.chunks.map((c) => files.get(chunkPath(c.sha256))!));
    expect(joined.equals(source), big).toBe(true);
    expect(recipe).toMatchObject({ size: source.length, mode: 0o644, sha256: createHash('sha256').update(source).digest('hex') });
    for (const c of recipe.chunks) wanted.add(chunkPath(c.sha256));
  }
  const chunkFiles = [...files.keys()].filter((p) => p.startsWith('.gamelayer-chunks/c/'));
  expect(chunkFiles.sort()).toEqual([...wanted].sort());
  for (const p of chunkFiles) expect(createHash('sha256').update(files.get(p)!).digest('hex')).toBe(path.basename(p));
  expect((await stat(path.join(tree, chunkFiles[0]!))).mode & 0o777).toBe(0o644);
}

const net = useRegistryBehindProxy();

describe('a chunked tree', () => {
  it('builds a tree image of exactly the chunks and recipes; a partial rewrite pushes only the new chunks', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'game');
    await makeGame(dir);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const first = await build({ config, tag: 'v1' });
    const media = first.record.manifests.find((m) => m.tree === 'app-media')!;
    expect(media.chunks).toEqual({ minFileSize: MiB, avgChunkSize: 64 * KiB });

    await expectExactChunks(root, first.store, 'v1', dir);

    // The record grows by the chunk lists and nothing else: an entry per chunk and recipe, in the manifest and the plan.
    const plain = path.join(root, 'plain');
    await makeGame(plain);
    await writeFile(path.join(plain, 'gamelayer.yaml'), (await readFile(path.join(plain, 'gamelayer.yaml'), 'utf8')).replace(/, chunks: \{[^}]*\}/, ''));
    const whole = await build({ config: await loadConfig(path.join(plain, 'gamelayer.yaml')), tag: 'v1' });
    expect(whole.record.manifests.find((m) => m.tree === 'app-media')!.chunks).toBeUndefined();
    const added = media.entries.length - whole.record.manifests.find((m) => m.tree === 'app-media')!.entries.length;
    expect(added).toBeGreaterThan(20);
    const grown = JSON.stringify(first.record).length - JSON.stringify(whole.record).length;
    expect(grown).toBeLessThan(added * 2 * 200);

    const repository = `${net.proxy.host}/studio/chunky`;
    await pushBuild({ store: first.store, record: first.record, repository, stateDir: config.stateDir });

    // A partial rewrite: 100 KiB overwritten in the middle of a.pak, 50 KiB inserted into b.pak (offsets shift).
    const fh = await open(path.join(dir, 'app-media/paks/a.pak'), 'r+');
    await fh.write(prng('patch', 100 * KiB), 0, 100 * KiB, 3 * MiB);
    await fh.close();
    const b = await readFile(path.join(dir, 'app-media/paks/b.pak'));
    await writeFile(path.join(dir, 'app-media/paks/b.pak'), Buffer.concat([b.subarray(0, 2 * MiB), prng('ins', 50 * KiB), b.subarray(2 * MiB)]));
    const second = await build({ config, tag: 'v2' });
    // The patch layer added the new chunks and whited out the ones no recipe needs: the image holds exactly the set.
    await expectExactChunks(root, second.store, 'v2', dir);
    const d = chunkDiff(diffManifests(first.record.manifests, second.record.manifests).find((x) => x.label === 'app-media')!)!;
    expect(d.filesModified.sort()).toEqual(['paks/a.pak', 'paks/b.pak']);
    // Only chunks near the two edits are new: a few 64 KiB-average chunks, not the 11 MiB of changed files.
    expect(d.newChunks).toBeGreaterThanOrEqual(2);
    expect(d.newChunkBytes).toBeLessThan(1.5 * MiB);
    // `diff` sees the working trees as the build does: nothing changed since the second build.
    const working = await workingTrees(config);
    expect(diffManifests(second.record.manifests, working.manifests).every((x) => x.added.length + x.modified.length + x.removed.length === 0)).toBe(true);
    const cost = pullCost(first.record, second.record);
    expect(cost.chunks).toEqual([expect.objectContaining({ tree: 'app-media', newChunks: d.newChunks, newBytes: d.newChunkBytes })]);
    // What `diff` prints: the changed big files by name, the chunks summed up (not listed by hash).
    const text = diffDetails(diffManifests(first.record.manifests, second.record.manifests), 50);
    expect(text).toContain('~ paks/a.pak (chunked)');
    expect(text).toContain('~ paks/b.pak (chunked)');
    expect(text).toMatch(new RegExp(`chunks: ${d.newChunks} new \\([0-9.]+ KiB to send\\), ${d.droppedChunks} no longer needed`));
    expect(text).not.toContain('.gamelayer-chunks/c/');
    expect(pullCostTable(cost, 'v1', 'v2')).toMatch(new RegExp(`chunked tree app-media: ${d.newChunks} of \\d+ chunks new`));

    const before = net.proxy.counts().uploadBytes;
    await pushBuild({ store: second.store, record: second.record, repository, stateDir: config.stateDir });
    const sent = net.proxy.counts().uploadBytes - before;
    // New chunks (incompressible), plus tar headers, recipes, configs, manifests and the build record.
    expect(sent).toBeGreaterThanOrEqual(d.newChunkBytes);
    expect(sent).toBeLessThan(d.newChunkBytes + 256 * KiB);

    // Whole-file targets refuse the chunked tree, naming it and the way out; init copies deliver it.
    const input = deployInputFrom(config, second.record, repository);
    expect(input.trees.find((t) => t.tree === 'app-media')!.chunked).toBe(true);
    expect(() => podTemplate(input, k8sOptions({ volumes: 'none' }), false)).toThrow(expect.objectContaining({ code: 'chunks.whole-files', message: expect.stringContaining('app-media'), hint: expect.stringContaining('--volumes init') }));
    const imagePod = podTemplate(input, k8sOptions({ volumes: 'image' }), false);
    expect(imagePod.deliveries.find((x) => x.tree.tree === 'app-media')!.via).toBe('copy');
    expect(imagePod.deliveries.find((x) => x.tree.tree === 'app')!.via).toBe('image');
    expect(() => imageDefinitions(input, { serverContainer: 'game' })).toThrow(expect.objectContaining({ code: 'chunks.whole-files' }));
    await expect(loadBuild({ config, tag: 'v2' })).rejects.toMatchObject({ code: 'chunks.whole-files', message: expect.stringContaining('app-media') });
    expect(existsSync(path.join(config.stateDir, 'cache/recipes'))).toBe(true);
  }, 240_000);
});
