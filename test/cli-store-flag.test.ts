// `build --store DIR` writes a build into another OCI layout; `push` (and `load`) of that build take the same
// `--store DIR`. Without it there was no way to push such a build: push read the config's store and answered
// "no image <tag>", hint "build the image first", for a build that had just been made.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let reg: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-store-flag-'));
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('push --store', () => {
  it('pushes a build written with build --store, from that layout', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    const other = path.join(root, 'elsewhere/oci');
    expect((await runCli(['build', '--store', other, '-t', 'v1'], { cwd: dir })).code).toBe(0);
    const plain = await runCli(['push', `${reg.host}/studio/game:v1`], { cwd: dir });
    expect(plain.code).toBe(1);
    const r = await runCli(['push', `${reg.host}/studio/game:v1`, '--store', other, '--json'], { cwd: dir });
    expect(r.stderr.replace(/^(blob|read|hash|build) .*\n/gm, '')).toBe('');
    expect(r.code).toBe(0);
    // The build's record goes with it, on the line a build --push would give it (user46b): its line tag too.
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/game')).sort()).toEqual(['gamelayer-line.default', 'v1', 'v1-app', 'v1-app-media', 'v1-engine', 'v1-engine-media', 'v1.gamelayer-record']);
  });

  it('push and load --help offer --store with the words of build --help', async () => {
    for (const c of ['push', 'load']) expect((await runCli([c, '--help'])).stdout).toMatch(/^ {2}--store <dir> +OCI image layout directory/m);
  });
});

// A --store naming nothing read as "no image tagged 1.0.0, build it first" (load) or "not an OCI image layout, build
// the image first" (push): the user had built, into the folder they meant to name. It now says the store is missing.
describe('--store of a folder that is not a store', () => {
  const noDocker = { DOCKER_HOST: 'unix:///tmp/gl-no-docker.sock' };

  it.each([
    ['load', []],
    ['push', ['127.0.0.1:9/studio/game:v1']],
  ])('%s --store MISSING says the store does not exist, naming the path and the flag', async (command, args) => {
    const dir = path.join(root, `missing-${command}`);
    await writeGame(dir);
    const missing = path.join(root, 'no-such/oci');
    const r = await runCli([command, ...args, '--store', missing], { cwd: dir, env: noDocker });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[store.missing]: --store ${missing}: the store does not exist\nhint: pass the folder a build wrote (gamelayer build --store DIR), or leave out --store for the config's store (${path.join(dir, '.gamelayer/oci')})\n`,
    );
  });

  it('a file, or a folder that is no layout, is named as such', async () => {
    const dir = path.join(root, 'not-layout');
    await writeGame(dir);
    const file = await runCli(['load', '--store', 'gamelayer.yaml'], { cwd: dir, env: noDocker });
    expect(file.code).toBe(1);
    expect(file.stderr).toContain(`error[store.not-layout]: --store ${path.join(dir, 'gamelayer.yaml')}: is a file, not a store folder\n`);
    await mkdir(path.join(dir, 'empty'));
    const folder = await runCli(['push', '127.0.0.1:9/studio/game:v1', '--store', 'empty'], { cwd: dir, env: noDocker });
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain(`error[store.not-layout]: --store ${path.join(dir, 'empty')}: not an OCI image layout (no oci-layout file)\n`);
  });

  // The flag's check is the store's own (OciStore.open): a layout of another version was taken by the flag and
  // failed later, on whatever the command read first.
  it.each([
    ['load', ['-t', 'v1']],
    ['push', ['127.0.0.1:9/studio/game:v1']],
  ])('%s --store of a layout of another version says so, with the flag', async (command, args) => {
    const dir = path.join(root, `version-${command}`);
    await writeGame(dir);
    expect((await runCli(['build', '--store', 'out/oci', '-t', 'v1'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'out/oci/oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const r = await runCli([command, ...args, '--store', 'out/oci'], { cwd: dir, env: noDocker });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[store.layout-version]: --store ${path.join(dir, 'out/oci')}: unsupported image layout version in oci-layout (gamelayer reads 1.0.0)\nhint: pass the folder a build wrote (gamelayer build --store DIR)\n`,
    );
  });

  it('load with no store yet says so; a --store a build wrote (relative) is taken, as far as the daemon', async () => {
    const dir = path.join(root, 'load-store');
    await writeGame(dir);
    const none = await runCli(['load'], { cwd: dir, env: noDocker });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`error[load.not-found]: ${path.join(dir, '.gamelayer/oci')}: the store does not exist (no image tagged 1.0.0)\n`);
    expect((await runCli(['build', '--store', 'out/oci', '-t', 'v1'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['load', '--store', 'out/oci', '-t', 'v1', '--json'], { cwd: dir, env: noDocker });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('docker.unreachable');
  });
});
