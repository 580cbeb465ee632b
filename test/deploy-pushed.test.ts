// Deploy commands refuse images the registry lacks: the local build record says where each image was pushed
// (`pushed`, written after a successful push), and k8s, ecs and codebuild imagedefinitions check it (--local skips).
// `gamelayer push <repo>:<tag>` of a build sends all five images and the record. Real registry, real CLI.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { deployInputFrom, requirePushed } from '../src/k8s/input.js';
import { markPushed } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, pushedRecord, sha } from './k8s-fixture.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const BIN = path.resolve('bin/gamelayer.js');

function code(f: () => unknown): [string, string] | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof GamelayerError) return [e.code, e.message];
    throw e;
  }
  return undefined;
}

describe('requirePushed', () => {
  const config = fixtureConfig();
  it('refuses a build never pushed, pushed elsewhere, or pushed with other digests; accepts the pushed images', () => {
    const unpushed = fixtureRecord();
    const input = deployInputFrom(config, unpushed, REPOSITORY);
    expect(code(() => requirePushed(unpushed, input, ['engine', 'app'], 'r.json'))).toEqual([
      'deploy.not-pushed',
      `r.json: build v1 of my-game: images engine, app were never pushed to ${REPOSITORY} (this build was never pushed); a node would fail with ErrImagePull`,
    ]);
    const elsewhere: BuildRecord = { ...unpushed, pushed: [{ repository: 'localhost:5000/my-game', images: [{ name: 'server', digest: sha('server-image') }], at: 'x' }] };
    expect(code(() => requirePushed(elsewhere, input, ['server']))?.[1]).toContain('image server was never pushed to 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-game (this build was pushed to localhost:5000/my-game)');
    const pushed = pushedRecord();
    expect(code(() => requirePushed(pushed, input, ['server', 'engine', 'engine-media', 'app', 'app-media']))).toBeUndefined();
    // An entry for the repository whose digest is not the one deployed does not count.
    const stale: BuildRecord = { ...pushed, pushed: [{ ...pushed.pushed![0]!, images: pushed.pushed![0]!.images.map((i) => (i.name === 'app' ? { ...i, digest: sha('older') } : i)) }] };
    expect(code(() => requirePushed(stale, input, ['engine', 'app']))?.[1]).toContain('image app was never pushed');
  });
});

describe('push of a build, then deploy (real registry, real CLI)', () => {
  let registry: TestRegistry;
  let config: GameConfig;
  let repo: string;
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, '-c', config.file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: config.dir } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (c) => resolve({ code: c ?? -1, stdout, stderr }));
    });

  beforeAll(async () => {
    registry = await startRegistry();
    repo = `${registry.host}/studio/sample`;
    const dir = await tempDir('gl-deploy-pushed-');
    copySample(dir);
    config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    await build({ config, tag: 'v7' });
  });
  afterAll(async () => registry?.stop());

  it('refuses before the push, pushes all five images and the record, then deploys; --local skips the check', async () => {
    const before = await cli(['k8s', '--kind', 'fleet', '--repository', repo]);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`error[deploy.not-pushed]: ${path.join(config.stateDir, 'records/build-last.json')}: build v7 of sample-game: image server was never pushed to ${repo} (this build was never pushed)`);
    expect(before.stderr).toContain(`hint: push it first: gamelayer push ${repo}:v7`);
    const ecsBefore = await cli(['ecs', '--repository', repo]);
    expect(ecsBefore.code).toBe(1);
    expect(ecsBefore.stderr).toContain('images engine, engine-media, app, app-media were never pushed');
    const defsBefore = await cli(['codebuild', 'imagedefinitions', '--repository', repo]);
    expect(defsBefore.code).toBe(1);
    expect(defsBefore.stderr).toContain('images engine, engine-media, app, app-media were never pushed');
    expect((await cli(['k8s', '--kind', 'fleet', '--repository', repo, '--local'])).code).toBe(0);

    const push = await cli(['push', `${repo}:v7`]);
    expect(push.stderr).not.toContain('error');
    expect(push.code).toBe(0);
    const tags = await storedTags(registry.storageDir, 'studio/sample');
    for (const t of ['v7', 'v7-engine', 'v7-engine-media', 'v7-app', 'v7-app-media']) expect(tags[t]).toMatch(/^sha256:/);
    const record = JSON.parse(await readFile(path.join(config.stateDir, 'records/build-v7.json'), 'utf8')) as BuildRecord;
    expect(record.pushed).toHaveLength(1);
    expect(record.pushed![0]!.repository).toBe(repo);
    expect(record.pushed![0]!.images.map((i) => i.name)).toEqual(['server', 'engine', 'engine-media', 'app', 'app-media']);
    for (const i of record.pushed![0]!.images) expect(record.images.find((x) => x.name === i.name)!.digest).toBe(i.digest);
    const last = JSON.parse(await readFile(path.join(config.stateDir, 'records/build-last.json'), 'utf8')) as BuildRecord;
    expect(last.pushed).toEqual(record.pushed);

    for (const args of [['k8s', '--kind', 'fleet'], ['k8s', '--volumes', 'init'], ['ecs'], ['codebuild', 'imagedefinitions']]) {
      const r = await cli([...args, '--repository', repo]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
    }
    // Pushed to one repository is not pushed to another.
    const other = await cli(['k8s', '--repository', `${registry.host}/studio/other`]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`(this build was pushed to ${repo})`);
  }, 240_000); // about a dozen CLI processes on a shared machine

  it('markPushed leaves a record of another build alone', async () => {
    const r = fixtureRecord({ game: 'sample-game', tags: ['v7'] });
    expect(await markPushed(config.stateDir, r, { repository: repo, images: [], at: 'x' })).toEqual([]);
  });
});
