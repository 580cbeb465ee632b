// DeployInput from config + build record: references, sizes, digests, and the errors for bad input.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployInputFrom, loadDeployInput, readBuildRecord } from '../src/k8s/input.js';
import { lastBuildFile } from '../src/state/records.js';
import { TREE_NAMES } from '../src/types.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, manifest, sha } from './k8s-fixture.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'gl-deploy-input-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('deployInputFrom', () => {
  it('pins every tree image by digest and takes sizes from the manifests', () => {
    const input = deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
    expect(input.trees.map((t) => t.tree)).toEqual([...TREE_NAMES]);
    expect(input.tag).toBe('v1');
    expect(input.version).toBe('1.4.2');
    for (const t of input.trees) {
      expect(t.image).toBe(`${REPOSITORY}:v1-${t.tree}@${sha(`${t.tree}-image`)}`);
      expect(t.mount).toBe(`/opt/local/${t.tree}`);
      expect(t.treeDigests).toEqual({ '*': sha(`${t.tree}manifest`) });
    }
    const appMedia = input.trees.find((t) => t.tree === 'app-media')!;
    expect(appMedia.bytes).toBe(900_000_000 + 120_000_000 + 1);
    expect(appMedia.entries).toBe(5); // dir, three files, link
    expect(input.trees.find((t) => t.tree === 'engine')!.executables).toBe(1);
    expect(input.serverImage).toBe(`${REPOSITORY}:v1@${sha('server-image')}`);
    expect(input.start).toEqual(['./bin/server', '-port', '7777']);
  });

  it('a start command given as one string runs through sh -c', () => {
    const config = fixtureConfig();
    config.start = ['./bin/server -port 7777'];
    expect(deployInputFrom(config, fixtureRecord(), REPOSITORY).start).toEqual(['sh', '-c', './bin/server -port 7777']);
  });

  it('per-platform trees: the largest platform sizes the volume, each platform keeps its digest', () => {
    const record = fixtureRecord({
      platforms: ['linux/amd64', 'linux/arm64'],
      manifests: [
        manifest('engine', [{ size: 10 }], 'linux/amd64'),
        manifest('engine', [{ size: 30 }, { size: 5 }], 'linux/arm64'),
        manifest('engine-media'),
        manifest('app', [{ size: 7 }], 'linux/arm64'),
        manifest('app', [{ size: 9 }], 'linux/amd64'),
        manifest('app-media'),
      ],
    });
    const input = deployInputFrom(fixtureConfig(), record, REPOSITORY);
    const engine = input.trees.find((t) => t.tree === 'engine')!;
    expect(engine.bytes).toBe(35);
    expect(engine.entries).toBe(4);
    const app = input.trees.find((t) => t.tree === 'app')!;
    expect(Object.keys(app.treeDigests)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(app.treeDigests['linux/arm64']).toBe(sha('applinux/arm64manifest'));
  });

  it('prefers the index (entry without platform) over per-platform manifests', () => {
    const record = fixtureRecord();
    record.images = record.images.flatMap((i) =>
      i.name === 'app'
        ? [
            { ...i, platform: 'linux/amd64', digest: sha('app-amd64') },
            { ...i, digest: sha('app-index'), mediaType: 'application/vnd.oci.image.index.v1+json' },
            { ...i, platform: 'linux/arm64', digest: sha('app-arm64') },
          ]
        : [i],
    );
    const app = deployInputFrom(fixtureConfig(), record, REPOSITORY).trees.find((t) => t.tree === 'app')!;
    expect(app.image).toBe(`${REPOSITORY}:v1-app@${sha('app-index')}`);
  });

  it('a record without a tree image: exact error', () => {
    const record = fixtureRecord();
    record.images = record.images.filter((i) => i.name !== 'app-media');
    expect(() => deployInputFrom(fixtureConfig(), record, REPOSITORY, '/g/.gamelayer/records/build-last.json')).toThrow(
      '/g/.gamelayer/records/build-last.json: images: no image for tree app-media; expected an entry with name "app-media"',
    );
  });

  it('per-platform images without an index are ambiguous: exact error', () => {
    const record = fixtureRecord();
    record.images = record.images.flatMap((i) =>
      i.name === 'engine'
        ? [
            { ...i, platform: 'linux/amd64' },
            { ...i, platform: 'linux/arm64' },
          ]
        : [i],
    );
    expect(() => deployInputFrom(fixtureConfig(), record, REPOSITORY, 'rec.json')).toThrow(
      'rec.json: images: image engine has one entry per platform (linux/amd64, linux/arm64) but no index entry without a platform to pin',
    );
  });

  it('rejects a malformed digest, a missing manifest, a record of another game, no tag', () => {
    const r1 = fixtureRecord();
    r1.images[0] = { ...r1.images[0]!, digest: 'sha256:abc' };
    expect(() => deployInputFrom(fixtureConfig(), r1, REPOSITORY, 'rec.json')).toThrow(
      'rec.json: images: image engine has digest "sha256:abc"; expected sha256:<64 hex digits>',
    );
    const r2 = fixtureRecord({ manifests: fixtureRecord().manifests.filter((m) => m.tree !== 'app') });
    expect(() => deployInputFrom(fixtureConfig(), r2, REPOSITORY, 'rec.json')).toThrow('rec.json: manifests: no manifest for tree app');
    expect(() => deployInputFrom(fixtureConfig(), fixtureRecord({ game: 'other' }), REPOSITORY, 'rec.json')).toThrow(
      'rec.json: game: the record is for "other", the config /games/my-game/gamelayer.yaml is for "my-game"',
    );
    expect(() => deployInputFrom(fixtureConfig(), fixtureRecord({ tags: [] }), REPOSITORY, 'rec.json')).toThrow(
      'rec.json: tags: the build record has no tag',
    );
  });

  it('rejects a repository with a tag or digest, accepts host:port', () => {
    for (const bad of [`${REPOSITORY}:v1`, `${REPOSITORY}@${sha('x')}`, 'my-game', 'Registry/UPPER']) {
      expect(() => deployInputFrom(fixtureConfig(), fixtureRecord(), bad)).toThrow(`repository ${JSON.stringify(bad)}: expected host/path`);
    }
    const input = deployInputFrom(fixtureConfig(), fixtureRecord(), 'localhost:5000/games/my-game');
    expect(input.trees[0]!.image).toBe(`localhost:5000/games/my-game:v1-engine@${sha('engine-image')}`);
  });
});

describe('reading the build record', () => {
  it('no record yet: exact error', async () => {
    const config = fixtureConfig('', tmp);
    const file = lastBuildFile(config);
    expect(file).toBe(path.join(tmp, '.gamelayer', 'records', 'build-last.json'));
    await expect(loadDeployInput(config)).rejects.toThrow(`${file}: no build yet, run gamelayer build`);
  });

  it('corrupt or foreign records are named', async () => {
    const file = path.join(tmp, 'rec.json');
    writeFileSync(file, '{"schemaVersion": 1, "images"');
    await expect(readBuildRecord(file)).rejects.toThrow(`${file}: not valid JSON (truncated or corrupt record)`);
    writeFileSync(file, JSON.stringify({ ...fixtureRecord(), images: undefined }));
    await expect(readBuildRecord(file)).rejects.toThrow(`${file}: not a gamelayer scan or build record: images: expected a list`);
    writeFileSync(file, JSON.stringify({ ...fixtureRecord(), schemaVersion: '1' }));
    await expect(readBuildRecord(file)).rejects.toThrow(`${file}: not a gamelayer scan or build record: schemaVersion: expected 1, got "1"`);
    // A later format is a newer gamelayer's record, not a damaged one.
    writeFileSync(file, JSON.stringify({ ...fixtureRecord(), schemaVersion: 2 }));
    await expect(readBuildRecord(file)).rejects.toThrow(`${file}: the record has schemaVersion 2, written by a newer gamelayer (this one reads 1)`);
    // A scan record is a record, but there is nothing to deploy in it.
    writeFileSync(file, JSON.stringify({ kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'now', manifests: [] }));
    await expect(readBuildRecord(file)).rejects.toThrow(`${file}: a scan record, not a build record`);
  });

  it('loads the last build record from the state dir, the repository from the config', async () => {
    const config = fixtureConfig('', tmp);
    mkdirSync(path.dirname(lastBuildFile(config)), { recursive: true });
    // The lead's writer adds kind: 'build'; extra fields are fine.
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...fixtureRecord() }));
    const { input } = await loadDeployInput(config);
    expect(input.repository).toBe(REPOSITORY);
    const { input: other } = await loadDeployInput(config, { repository: 'localhost:5000/g' });
    expect(other.trees[3]!.image).toMatch(/^localhost:5000\/g:v1-app-media@sha256:/);
  });

  it('no registry in the config and no --repository: the one repository the record says the build was pushed to', async () => {
    const config = fixtureConfig('', tmp);
    delete config.registry;
    const record = fixtureRecord();
    const images = record.images.filter((i) => i.platform === undefined).map((i) => ({ name: i.name, digest: i.digest }));
    const push = (repository: string) => ({ repository, images, at: '2026-12-05T00:00:00.000Z' });
    mkdirSync(path.dirname(lastBuildFile(config)), { recursive: true });
    // Pushed twice to one repository (build --push, then push again): still one place to deploy from.
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...record, pushed: [push('127.0.0.1:5000/studio/g'), push('127.0.0.1:5000/studio/g')] }));
    const { input } = await loadDeployInput(config);
    expect(input.repository).toBe('127.0.0.1:5000/studio/g');
    expect(input.trees[3]!.image).toMatch(/^127\.0\.0\.1:5000\/studio\/g:v1-app-media@sha256:/);
    // Two repositories: which one is the user's choice, and the error names both.
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...record, pushed: [push('127.0.0.1:5000/studio/g'), push('127.0.0.1:5001/eu/g')] }));
    await expect(loadDeployInput(config)).rejects.toMatchObject({
      code: 'deploy.repository',
      message: `${config.file}: registry: not set, and this build was pushed to 2 repositories: 127.0.0.1:5000/studio/g, 127.0.0.1:5001/eu/g; a spec pins one copy`,
      hint: 'name it: --repository 127.0.0.1:5000/studio/g or --repository 127.0.0.1:5001/eu/g (one spec per copy, each with its own --out); registry: in gamelayer.yaml names the default',
    });
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...record }));
  });

  it('counts the record file\'s entries as it reads them: the same input as the record read whole (per-platform and chunked trees)', async () => {
    const config = fixtureConfig('', tmp);
    const chunked = manifest('app-media', [{ size: 4000 }, { size: 12, exec: true }]);
    chunked.entries.push(
      { path: '.gamelayer-chunks', type: 'dir', mode: 0o755, size: 0 },
      { path: '.gamelayer-chunks/c/0a1b', type: 'file', mode: 0o644, size: 70_000, xxh64: '1'.repeat(16) },
      { path: '.gamelayer-chunks/r/big.pak', type: 'file', mode: 0o644, size: 300, xxh64: '2'.repeat(16) },
    );
    chunked.entries.sort((a, b) => (a.path < b.path ? -1 : 1));
    chunked.chunks = { minFileSize: 1 << 20, avgChunkSize: 1 << 20 };
    chunked.assembled = { files: 1, bytes: 64_000_000 };
    const record = fixtureRecord({
      platforms: ['linux/amd64', 'linux/arm64'],
      manifests: [
        manifest('engine', [{ size: 5, exec: true }], 'linux/amd64'),
        manifest('engine', [{ size: 9, exec: true }, { size: 1, exec: true }], 'linux/arm64'),
        manifest('engine-media'),
        manifest('app'),
        chunked,
      ],
    });
    mkdirSync(path.dirname(lastBuildFile(config)), { recursive: true });
    writeFileSync(lastBuildFile(config), JSON.stringify({ kind: 'build', ...record }));
    const { input } = await loadDeployInput(config);
    expect(input).toEqual(deployInputFrom(config, record, REPOSITORY));
    const appMedia = input.trees.find((t) => t.tree === 'app-media')!;
    expect(appMedia).toMatchObject({ bytes: 4000 + 12 + 70_000 + 300, entries: 7, executables: 1, chunked: true });
    // data, its two files, link; a record without chunk lists leaves room to rewrite every big file (a restarted copy)
    expect(appMedia.assembled).toEqual({ bytes: 64_000_000 + 4012, entries: 1 + 4, rewrite: 64_000_000 });
    expect(input.trees.find((t) => t.tree === 'engine')).toMatchObject({ bytes: 10, entries: 4, executables: 2 });

    // An entry that is not one: the record is corrupt, named with the entry.
    const bad = { kind: 'build', ...record, manifests: record.manifests.map((m, i) => (i === 2 ? { ...m, entries: [{ path: 'x', type: 'file', mode: 420 }] } : m)) };
    writeFileSync(lastBuildFile(config), JSON.stringify(bad));
    await expect(loadDeployInput(config)).rejects.toMatchObject({ code: 'record.corrupt', message: expect.stringContaining('manifests[2].entries[0]') });
    writeFileSync(lastBuildFile(config), '{"schemaVersion": 1, "images"');
    await expect(loadDeployInput(config)).rejects.toThrow(`${lastBuildFile(config)}: not valid JSON (truncated or corrupt record)`);
  });

  it('no registry in the config and no --repository: exact error', async () => {
    const config = fixtureConfig('', tmp);
    delete config.registry;
    await expect(loadDeployInput(config)).rejects.toThrow(
      `${config.file}: registry: not set, so the image repository is unknown`,
    );
  });
});
