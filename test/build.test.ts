// The daemonless build on the sample game: deterministic bytes, valid OCI, accepted by umoci and skopeo,
// file systems equal to the sources, only changed layers rebuilt.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { ociSchemaErrors } from './support/oci-schema.js';
import { describeTree } from './support/compare-trees.js';
import { copySample, copyTwoPlatformSample, sampleConfig, sampleGame } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** Every file of an OCI layout (but its temp dir and lock) with a hash of its bytes. */
async function layoutFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string) {
    for (const name of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, name.name);
      if (r === '.tmp' || r.endsWith('.lock')) continue;
      if (name.isDirectory()) await walk(r);
      else out[r] = createHash('sha256').update(await readFile(path.join(dir, r))).digest('hex');
    }
  }
  await walk('');
  return out;
}

describe('build: determinism', () => {
  it('gives byte-identical layers, configs, manifests and index from separate copies with different umask and mtimes', async () => {
    const dir = await tempDir();
    copySample(path.join(dir, 'a'), '022');
    copySample(path.join(dir, 'b'), '077');
    const later = new Date(2030, 0, 1);
    for (const f of ['app/game.xml', 'app-media/levels']) await utimes(path.join(dir, 'b', f), later, later).catch(() => {});
    const a = await build({ config: await sampleConfig(path.join(dir, 'a')) });
    const b = await build({ config: await sampleConfig(path.join(dir, 'b')), concurrency: 1 });
    expect(b.record.images).toEqual(a.record.images);
    const fa = await layoutFiles(a.store);
    expect(Object.keys(fa).length).toBeGreaterThanOrEqual(20);
    expect(await layoutFiles(b.store)).toEqual(fa);
  });
});

describe('build: OCI validity and independent clients', () => {
  it('writes only schema-valid documents, and umoci unpacks a root file system equal to the sources', async () => {
    const { dir, game, config: gameConfig } = await sampleGame();
    const result = await build({ config: gameConfig });
    const store = result.store;

    expect(ociSchemaErrors('layout', JSON.parse(await readFile(path.join(store, 'oci-layout'), 'utf8')))).toEqual([]);
    const index = JSON.parse(await readFile(path.join(store, 'index.json'), 'utf8'));
    expect(ociSchemaErrors('index', index)).toEqual([]);
    for (const m of index.manifests as { digest: string }[]) {
      const manifest = JSON.parse(await readFile(path.join(store, 'blobs/sha256', m.digest.slice(7)), 'utf8'));
      expect(ociSchemaErrors('manifest', manifest)).toEqual([]);
      const config = JSON.parse(await readFile(path.join(store, 'blobs/sha256', manifest.config.digest.slice(7)), 'utf8'));
      expect(ociSchemaErrors('config', config)).toEqual([]);
      expect(config.rootfs.diff_ids).toHaveLength(manifest.layers.length);
    }

    const bundle = path.join(dir, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${store}:1.0.0`, bundle], { stdio: 'pipe' });
    const engineSrc = path.join(dir, 'engine-src');
    await mkdir(engineSrc);
    execFileSync('tar', ['-xzf', path.join(game, 'engine/BinLinux64.Dedicated.tar.gz'), '-C', engineSrc]);
    const rootfs = path.join(bundle, 'rootfs/opt/local');
    expect(await describeTree(path.join(rootfs, 'engine'))).toEqual(await describeTree(engineSrc));
    for (const t of ['engine-media', 'app', 'app-media']) {
      expect(await describeTree(path.join(rootfs, t))).toEqual(await describeTree(path.join(game, t)));
    }
    const umociConfig = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8'));
    expect(umociConfig.process.args).toEqual(['/opt/local/engine/bin/SampleGame.ServerLauncher']);

    // A tree image holds its tree and the sentinel naming the tree's digest, nothing else.
    const treeBundle = path.join(dir, 'tree-bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${store}:1.0.0-app`, treeBundle], { stdio: 'pipe' });
    const sentinel = JSON.parse(await readFile(path.join(treeBundle, 'rootfs/opt/local/app/.gamelayer-tree'), 'utf8'));
    expect(sentinel).toEqual({ tree: 'app', digest: result.record.manifests.find((m) => m.tree === 'app')!.digest });
    expect(await readdir(path.join(treeBundle, 'rootfs/opt/local'))).toEqual(['app']);

    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${store}:1.0.0`]).toString());
    expect(inspected.Digest).toBe(result.record.images.find((i) => i.name === 'server')!.digest);
    expect(inspected.Layers).toHaveLength(4);
    execFileSync('skopeo', ['copy', '--quiet', `oci:${store}:1.0.0-app-media`, `oci:${path.join(dir, 'copy')}:x`]);
  });
});

describe('build: reuse and splitting', () => {
  it('reuses every layer on a no-op rebuild; a rebased build rebuilds exactly the layer of an edited file', async () => {
    const { game, config } = await sampleGame('layers: {targetSize: 24KiB}');
    const first = await build({ config });
    const serverLayers = (r: typeof first) => r.summary.layers.map((l) => l.layer.digest);
    const mediaLayers = first.summary.layers.filter((l) => l.layer.tree === 'app-media');
    expect(mediaLayers.length).toBeGreaterThan(3);

    const again = await build({ config });
    expect(again.summary).toMatchObject({ built: 0, bytesNew: 0 });
    expect(again.record.images).toEqual(first.record.images);

    const pak = execFileSync('find', [path.join(game, 'app-media'), '-name', '*.pak']).toString().trim().split('\n')[3]!;
    const bytes = await readFile(pak);
    await writeFile(pak, bytes.map((b) => b ^ 0xff)); // same size, other content
    const edited = await build({ config, rebase: true });
    const changed = serverLayers(edited).filter((d) => !serverLayers(first).includes(d));
    expect(changed).toHaveLength(1);
    expect(serverLayers(edited)).toHaveLength(serverLayers(first).length);
    // The edited layer, and the app-media sentinel (its tree digest changed), are all that was built.
    expect(edited.summary.built).toBe(2);

    await writeFile(path.join(game, 'app-media/levels/new-level.pak'), Buffer.alloc(3000, 7));
    const added = await build({ config, rebase: true });
    expect(serverLayers(added).filter((d) => !serverLayers(edited).includes(d)).length).toBeLessThanOrEqual(2);
    await rm(pak);
    const removed = await build({ config, rebase: true });
    expect(serverLayers(removed).filter((d) => !serverLayers(added).includes(d)).length).toBeLessThanOrEqual(2);
  });

  it('uses the layer cache only when the blob is still in the store with its size, and survives a garbled cache', async () => {
    const { game, config } = await sampleGame();
    const first = await build({ config });
    const victim = first.summary.layers.find((l) => l.layer.tree === 'app')!.layer.digest;
    await rm(path.join(first.store, 'blobs/sha256', victim.slice(7)));
    const cacheFile = path.join(game, '.gamelayer/cache/layers.json');
    const text = await readFile(cacheFile, 'utf8');
    await writeFile(cacheFile, text.slice(0, text.length - 40)); // a torn write: header intact, body cut
    const warnings: string[] = [];
    const reporter = { info() {}, warn: (m: string) => warnings.push(m), task: () => ({ tick() {}, done() {} }) };
    const second = await build({ config, reporter });
    expect(warnings.join('\n')).toContain('layer cache ignored (checksum mismatch (truncated or corrupt))');
    expect(second.record.images).toEqual(first.record.images);
    // The removed blob was built again, and its bytes are the layer's (not merely some file of that name).
    const rebuilt = await readFile(path.join(first.store, 'blobs/sha256', victim.slice(7)));
    expect(`sha256:${createHash('sha256').update(rebuilt).digest('hex')}`).toBe(victim);
  });
});

describe('build: patch layers', () => {
  it('adds one patch layer per changed tree; umoci unpacks the sources as they are now; --rebase equals a fresh build', async () => {
    const { dir, game, config } = await sampleGame();
    const first = await build({ config });
    const harbor = path.join(game, 'app-media/levels/harbor/level.pak');
    await writeFile(harbor, (await readFile(harbor)).map((b) => b ^ 1)); // modified
    await rm(path.join(game, 'app-media/levels/forest/level.pak')); // removed
    await rm(path.join(game, 'app-media/levels/canyon'), { recursive: true }); // a removed folder
    await mkdir(path.join(game, 'app-media/levels2'));
    await writeFile(path.join(game, 'app-media/levels2/new.pak'), Buffer.alloc(4000, 3)); // added
    await writeFile(path.join(game, 'app/config/server.cfg'), 'port=1\n'); // another tree
    const second = await build({ config });
    // app-media is one small layer here: a third of it removed is past its tree's 15 %, but far under the dead bytes'
    // floor (a sixteenth of the 512 MiB target: docs/compaction.md, "Thirteenth round"), so nothing is rewritten: every
    // kept layer keeps its digest and place (a rewrite in place is covered by build-long-sequence.test.ts).
    expect(second.summary.trees.map((t) => `${t.tree}:${t.decision}`)).toEqual([
      'engine:unchanged', 'engine-media:unchanged', 'app:patched', 'app-media:patched',
    ]);
    const firstDigests = first.summary.layers.map((l) => l.layer.digest);
    // The server stack (SERVER_STACK_ORDER): every kept layer in place, the patches on top.
    expect(first.summary.layers.map((l) => l.layer.tree)).toEqual(['engine-media', 'engine', 'app-media', 'app']);
    expect(second.summary.layers.filter((l) => !l.patch).map((l) => l.layer.digest)).toEqual(firstDigests);
    // The new tops in the same order as the trees (issue 16: the app's patch is the top, cheap to fold next time).
    expect(second.summary.layers.map((l) => `${l.layer.tree}${l.patch ? '+patch' : ''}`)).toEqual([
      'engine-media', 'engine', 'app-media', 'app', 'app-media+patch', 'app+patch',
    ]);
    expect(second.summary.layers.filter((l) => l.patch).map((l) => l.layer.tree)).toEqual(['app-media', 'app']);
    expect(second.summary.built).toBe(4); // two patches, two sentinels

    const bundle = path.join(dir, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${second.store}:1.0.0`, bundle], { stdio: 'pipe' });
    for (const t of ['engine-media', 'app', 'app-media']) {
      expect(await describeTree(path.join(bundle, 'rootfs/opt/local', t))).toEqual(await describeTree(path.join(game, t)));
    }
    const mediaBundle = path.join(dir, 'media-bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${second.store}:1.0.0-app-media`, mediaBundle], { stdio: 'pipe' });
    expect(await describeTree(path.join(mediaBundle, 'rootfs/opt/local/app-media'), (r) => r === '.gamelayer-tree')).toEqual(
      await describeTree(path.join(game, 'app-media')),
    );

    const rebased = await build({ config, rebase: true });
    expect(rebased.summary.layers.some((l) => l.patch)).toBe(false);
    const elsewhere = path.join(dir, 'elsewhere');
    execFileSync('cp', ['-a', game, elsewhere]);
    await rm(path.join(elsewhere, '.gamelayer'), { recursive: true });
    const fresh = await build({ config: await loadConfig(path.join(elsewhere, 'gamelayer.yaml')) });
    expect(fresh.record.images).toEqual(rebased.record.images);
  });
});

describe('build: platforms', () => {
  it('builds an OCI index per image for two platforms, sharing the media layers', async () => {
    const dir = await tempDir();
    const game = path.join(dir, 'game');
    await copyTwoPlatformSample(game);
    const result = await build({ config: await loadConfig(path.join(game, 'gamelayer.yaml')) });
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${result.store}:1.0.0`]).toString());
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const layersOf = (arch: string) =>
      result.summary.layers.filter((l) => l.platform === `linux/${arch}`).map((l) => `${l.layer.tree}:${l.layer.digest}`);
    const amd = layersOf('amd64');
    const arm = layersOf('arm64');
    expect(amd.filter((l) => l.startsWith('app-media:') || l.startsWith('engine-media:'))).toEqual(
      arm.filter((l) => l.startsWith('app-media:') || l.startsWith('engine-media:')),
    );
    expect(amd.find((l) => l.startsWith('engine:'))).not.toBe(arm.find((l) => l.startsWith('engine:')));
    const armInspect = JSON.parse(execFileSync('skopeo', ['inspect', '--override-arch', 'arm64', `oci:${result.store}:1.0.0`]).toString());
    expect(armInspect.Architecture).toBe('arm64');
  });
});

describe('build: inside AWS CodeBuild', () => {
  const codebuild = (sha: string) => ({
    ...process.env,
    CODEBUILD_BUILD_ID: `game:${sha.slice(0, 4)}`,
    CODEBUILD_BUILD_ARN: `arn:aws:codebuild:us-east-1:123456789012:build/game:${sha.slice(0, 4)}`,
    CODEBUILD_RESOLVED_SOURCE_VERSION: sha,
    CODEBUILD_SOURCE_REPO_URL: 'https://github.com/studio/game',
  });

  it('tags with the commit\'s first 8 hex digits, records the revision and the build ARN, labels no image with them', async () => {
    const dir = await tempDir();
    copySample(dir);
    const env = codebuild('9a8b7c6d5e4f30211203');
    const out = JSON.parse(execFileSync(path.resolve('bin/gamelayer.js'), ['build', '--json'], { cwd: dir, env }).toString());
    expect(out.tags[0]).toBe('9a8b7c6d');
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-9a8b7c6d.json'), 'utf8'));
    expect(record.codebuildArn).toBe(env.CODEBUILD_BUILD_ARN);
    expect(record.revision).toBe('9a8b7c6d5e4f30211203');
    expect(record.sourceUrl).toBe('https://github.com/studio/game');
    const labels = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${out.store}:9a8b7c6d`]).toString()).Labels ?? {};
    expect(labels['org.opencontainers.image.revision']).toBeUndefined();
    expect(labels['org.opencontainers.image.source']).toBeUndefined();
  });

  it('a commit that changes nothing of the game (docs only) makes the same image digests; inspect names each commit', async () => {
    const dir = await tempDir();
    copySample(dir);
    const run = (sha: string, args: string[]) => execFileSync(path.resolve('bin/gamelayer.js'), args, { cwd: dir, env: codebuild(sha) }).toString();
    const first = JSON.parse(run('1111aaaa2222bbbb3333', ['build', '--json']));
    const second = JSON.parse(run('4444cccc5555dddd6666', ['build', '--json']));
    expect(second.tags[0]).toBe('4444cccc');
    const digests = (out: { images: { name: string; platform?: string; digest: string }[] }) => out.images.map((i) => `${i.name} ${i.platform ?? ''} ${i.digest}`);
    expect(digests(first).length).toBeGreaterThan(0);
    expect(digests(second)).toEqual(digests(first));
    const view = (tag: string) => JSON.parse(run('4444cccc5555dddd6666', ['inspect', tag, '--json']));
    expect(view('1111aaaa').revision).toBe('1111aaaa2222bbbb3333');
    expect(view('4444cccc').revision).toBe('4444cccc5555dddd6666');
    expect(run('4444cccc5555dddd6666', ['inspect', '1111aaaa'])).toContain('revision: 1111aaaa2222bbbb3333 (https://github.com/studio/game)');
    const ls = run('4444cccc5555dddd6666', ['ls']);
    expect(ls).toContain(' yes (1111aaaa2222)\n');
    expect(ls).toContain(' yes (4444cccc5555)\n');
    const listed = JSON.parse(run('4444cccc5555dddd6666', ['ls', '--json']));
    const builds = listed.builds as { tag: string; revision?: string }[];
    expect((listed.tags as { tag: string; revision?: string }[]).find((t) => t.tag === '1111aaaa')?.revision).toBe('1111aaaa2222bbbb3333');
    expect(Object.fromEntries(builds.map((b) => [b.tag, b.revision]))).toEqual({ '1111aaaa': '1111aaaa2222bbbb3333', '4444cccc': '4444cccc5555dddd6666' });
    // On the workload's own metadata, once: not in its pod template, which stays the same for both commits.
    const spec = run('4444cccc5555dddd6666', ['k8s', '--kind', 'deployment', '--local', '--repository', 'registry.example/game']);
    expect(spec.split('gamelayer.dev/revision: 4444cccc5555dddd6666').length).toBe(2);
    // On the ECS task definition's tags (metadata of the registration, not of the containers).
    const task = JSON.parse(run('4444cccc5555dddd6666', ['ecs', '--local', '--repository', 'registry.example/game'])) as { tags: { key: string; value: string }[] };
    expect(task.tags).toContainEqual({ key: 'gamelayer.revision', value: '4444cccc5555dddd6666' });
  });
});
