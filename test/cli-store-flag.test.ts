// `build --store DIR` writes a build into another OCI layout; `push` (and `load`) of that build take the same
// `--store DIR`. Without it there was no way to push such a build: push read the config's store and answered
// "no image <tag>", hint "build the image first", for a build that had just been made.
import { mkdtemp, rm } from 'node:fs/promises';
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
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/game')).sort()).toEqual(['v1', 'v1-app', 'v1-app-media', 'v1-engine', 'v1-engine-media', 'v1.gamelayer-record']);
  });

  it('push and load --help offer --store with the words of build --help', async () => {
    for (const c of ['push', 'load']) expect((await runCli([c, '--help'])).stdout).toMatch(/^ {2}--store <dir> +OCI image layout directory/m);
  });
});
