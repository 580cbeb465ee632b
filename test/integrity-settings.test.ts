// A change of layer settings plans every tree afresh instead of stacking a patch on the previous build (issue 14):
// one test per setting (mount, target size, compression) through the build API, each against a control build
// that changes nothing but a file and does patch.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, type BuildOptions } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { TREE_NAMES } from '../src/types.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

async function builtOnce(name: string): Promise<string> {
  const root = await tempDir(`gl-settings-${name}-`);
  await writeGame(root);
  await build({ config: await loadConfig(path.join(root, 'gamelayer.yaml')) });
  // A change the next build would normally carry in a patch layer of app-media.
  await writeFile(path.join(root, 'app-media', 'paks', 'b.pak'), Buffer.alloc(1000, 3));
  return root;
}

async function rebuild(root: string, yamlChange?: (text: string) => string, extra: Partial<BuildOptions> = {}) {
  const file = path.join(root, 'gamelayer.yaml');
  if (yamlChange) await writeFile(file, yamlChange(await readFile(file, 'utf8')));
  const r = await build({ config: await loadConfig(file), ...extra });
  return Object.fromEntries(r.summary.trees.map((t) => [t.tree, t.decision]));
}

const allFresh = Object.fromEntries(TREE_NAMES.map((t) => [t, 'fresh']));

describe('a change of layer settings plans afresh', () => {
  it('control: with the same settings the changed tree is patched and the others kept', async () => {
    const root = await builtOnce('control');
    expect(await rebuild(root)).toEqual({ engine: 'unchanged', 'engine-media': 'unchanged', app: 'unchanged', 'app-media': 'patched' });
  });

  it('a new mount of one tree', async () => {
    const root = await builtOnce('mount');
    expect(await rebuild(root, (t) => t.replace('app: {source: app}', 'app: {source: app, mount: /srv/app}'))).toEqual(allFresh);
  });

  it('a new target size', async () => {
    const root = await builtOnce('target');
    expect(await rebuild(root, (t) => t.replace('trees:', 'layers: {targetSize: 256MiB}\ntrees:'))).toEqual(allFresh);
  });

  it('another compression, from the yaml or from the build option', async () => {
    const root = await builtOnce('yaml-zstd');
    expect(await rebuild(root, (t) => t.replace('trees:', 'layers: {compression: zstd}\ntrees:'))).toEqual(allFresh);
    const other = await builtOnce('option-zstd');
    expect(await rebuild(other, undefined, { compression: 'zstd' })).toEqual(allFresh);
  });
});
