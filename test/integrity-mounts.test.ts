// Each tree owns its mount and nothing else (issue 14, item 1): a tree mounted inside another's owns that path (the
// outer tree leaves it out), and the layer writer and the patch planner refuse any entry or whiteout that would land outside the mount.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { dirContentSource, type ContentSource } from '../src/oci/content.js';
import { layerTar, layerTarEntries } from '../src/oci/tar.js';
import { planIncremental, recordedTrees, type PreviousTree } from '../src/plan/incremental.js';
import { layerInputKey, type PlanOptions } from '../src/plan/plan.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const FILE = '/games/g/gamelayer.yaml';
const yaml = (mounts: Partial<Record<TreeName, string>>) => `game: g
start: /opt/local/engine/start.sh
trees:
${TREE_NAMES.map((t) => `  ${t}: {source: ${t}${mounts[t] ? `, mount: ${mounts[t]}` : ''}}`).join('\n')}
`;

function errorOf(text: string): GamelayerError {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    return e as GamelayerError;
  }
  throw new Error('expected the config to be rejected');
}

describe('nested mounts', () => {
  // A tree mounted inside another's (Unreal: engine media at <game>/Engine/Content inside the engine at <game>/Engine,
  // which `gamelayer init` proposes) owns that path: the outer tree leaves it out, so no layer of the outer tree can
  // hold a file there or a whiteout of it (the attack of issue 14: app at /opt/local deleting /opt/local/engine).
  it('the outer tree leaves out the inner mount (the attack of issue 14 has nothing to delete)', () => {
    const c = parseConfig(yaml({ engine: '/opt/local/engine', app: '/opt/local' }), FILE);
    expect(c.trees.app.exclude).toEqual(['engine', 'engine/**', 'engine-media', 'engine-media/**', 'app-media', 'app-media/**']);
    expect(c.trees.engine.exclude).toEqual([]);
  });

  it('in either order of the trees, with trailing slashes, and at the image root', () => {
    expect(parseConfig(yaml({ engine: '/srv', 'app-media': '/srv/game/media/' }), FILE).trees.engine.exclude).toEqual(['game/media', 'game/media/**']);
    const root = parseConfig(yaml({ 'engine-media': '/' }), FILE).trees['engine-media'].exclude;
    expect(root).toEqual(['opt/local/engine', 'opt/local/engine/**', 'opt/local/app', 'opt/local/app/**', 'opt/local/app-media', 'opt/local/app-media/**']);
  });

  it('accepts mounts that only share a name prefix, leaving every tree whole', () => {
    const c = parseConfig(yaml({ engine: '/opt/game', app: '/opt/game-app', 'app-media': '/opt/gamex' }), FILE);
    expect(c.trees.app.mount).toBe('/opt/game-app');
    expect(TREE_NAMES.map((t) => c.trees[t].exclude)).toEqual([[], [], [], []]);
  });

  it('gamelayer build: the outer tree never carries the inner mount, not even as a whiteout when its folder goes', async () => {
    const root = await tempDir('gl-mounts-');
    await writeGame(root);
    const file = path.join(root, 'gamelayer.yaml');
    const text = (await readFile(file, 'utf8')).replace('app: {source: app}', 'app: {source: app, mount: /opt/local}');
    await writeFile(file, text);
    // The app tree holds a folder named like the engine's mount: it must not shadow or delete the engine.
    await mkdir(path.join(root, 'app', 'engine'), { recursive: true });
    await writeFile(path.join(root, 'app', 'engine', 'start.sh'), '#!/bin/sh\necho evil\n');
    const first = await runCli(['build', '-c', file, '--json']);
    expect(first.code).toBe(0);
    await rm(path.join(root, 'app', 'engine'), { recursive: true });
    const second = await runCli(['build', '-c', file, '--json']);
    expect(second.code).toBe(0);
    const record = JSON.parse(await readFile(path.join(root, '.gamelayer', 'records', 'build-last.json'), 'utf8')) as { plan: { layers: { tree: string; entries: { path: string }[] }[] } };
    const appPaths = record.plan.layers.filter((l) => l.tree === 'app').flatMap((l) => l.entries.map((e) => e.path));
    expect(appPaths.length).toBeGreaterThan(0);
    expect(appPaths.filter((p) => p === 'engine' || p.startsWith('engine/') || p === '.wh.engine')).toEqual([]);
  });

  it('the planner refuses a whiteout above another tree\'s mount (a removed folder of the outer tree)', () => {
    const mounts = { ...Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])), app: '/opt', engine: '/opt/local/engine' } as Record<TreeName, string>;
    const opts: PlanOptions = { targetSize: 1 << 20, maxLayers: 100, mounts };
    const f = (p: string): FileEntry => ({ path: p, type: 'file', mode: 0o644, size: 10, xxh64: 'aa'.padStart(16, '0') });
    const manifest = (t: TreeName, files: FileEntry[]): TreeManifest => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(files));
    // Outside gamelayer's own configs (where the outer tree leaves the inner mount out), a record could still hold
    // the folder above the engine's mount in the app tree: removing it must not become `.wh.local`.
    // (A small change: one removed file of many, so the tree is patched, not planned afresh.)
    const kept = Array.from({ length: 20 }, (_, i) => f(`cfg/${i}.cfg`));
    const before = TREE_NAMES.map((t) => manifest(t, t === 'app' ? [...kept, f('local/x')] : [f('f')]));
    const after = TREE_NAMES.map((t) => manifest(t, t === 'app' ? kept : [f('f')]));
    const prev = previousOf(before, opts);
    let err: unknown;
    try {
      planIncremental(after, prev, opts);
    } catch (e) {
      err = e;
    }
    expect((err as GamelayerError)?.code).toBe('plan.path-outside');
    expect((err as GamelayerError).message).toBe('app: local was removed, and its whiteout would delete /opt/local/engine, the mount of another tree');
  });
});

/** The previous build as the pipeline hands it to the planner: a planned build's trees, read back from its record. */
function previousOf(manifests: TreeManifest[], opts: PlanOptions): Partial<Record<TreeName, PreviousTree>> {
  const plan = planIncremental(manifests, {}, opts);
  return recordedTrees({ plan: { layers: plan.layers.map((l) => ({ ...l, platform: 'linux/amd64' })) }, manifests }, 'linux/amd64');
}

const entry = (p: string, size = 0): FileEntry => ({ path: p, type: 'file', mode: 0o644, size, xxh64: 'ef46db3751d8e999' });
const empty: ContentSource = { open: async () => Readable.from([]) };

async function drain(r: Readable): Promise<void> {
  for await (const _ of r);
}

describe('the layer writer touches only paths inside its mount', () => {
  it.each(['.wh..', '.wh...', 'levels/.wh...'])('refuses the escaping whiteout %s, naming the tree and the path', async (p) => {
    const layer = { tree: 'app' as const, index: 1, entries: [entry(p)] };
    let err: unknown;
    try {
      await drain(layerTar(layer, empty, { mount: '/opt/local/app', mtime: 0, tree: 'app' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GamelayerError);
    expect((err as GamelayerError).code).toBe('layer.outside-mount');
    expect((err as GamelayerError).message).toContain(`app: layer entry "${p}"`);
    expect((err as GamelayerError).message).toContain('outside the mount /opt/local/app');
  });

  it('keeps whiteouts of files inside the mount and the opaque marker', () => {
    const names = layerTarEntries([entry('levels/.wh.l5'), entry('.wh.old.pak'), entry('x/.wh..wh..opq')], '/opt/local/app').map((t) => t.name);
    expect(names).toContain('opt/local/app/levels/.wh.l5');
    expect(names).toContain('opt/local/app/.wh.old.pak');
    expect(names).toContain('opt/local/app/x/.wh..wh..opq');
  });
});

describe('the content source reads only files inside the tree', () => {
  it('refuses an entry path that climbs out of the tree root before opening anything', async () => {
    const root = await tempDir('gl-content-');
    for (const p of ['../secret', 'a/../../secret', '/etc/passwd']) {
      const err = await dirContentSource(root).open({ ...entry(p, 3), xxh64: '0000000000000000' }).catch((e: unknown) => e);
      expect((err as GamelayerError).code).toBe('content.path');
      expect((err as GamelayerError).message).toBe(`${root}: the entry "${p}" is not a clean path inside the tree`);
    }
  });
});

describe('patch planning touches only paths inside the tree', () => {
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
  const opts: PlanOptions = { targetSize: 1 << 20, maxLayers: 100, mounts };
  const file = (p: string, h = 'aa'): FileEntry => ({ path: p, type: 'file', mode: 0o644, size: 10, xxh64: h.padStart(16, '0') });
  const tree = (t: TreeName, files: FileEntry[]): TreeManifest => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(files));

  it('refuses a recorded manifest whose removed path climbs out (it would become a whiteout of another tree)', () => {
    const game = (app: FileEntry[]) => TREE_NAMES.map((t) => tree(t, t === 'app' ? app : [file('f')]));
    // A forged previous record: its app tree "held" ../engine (in its manifest and its layer, the layer's inputKey
    // recomputed so the record looks sound), which the new scan no longer has.
    const before = game([file('a.cfg')]);
    const prev = previousOf(before, opts);
    const forgedEntry: FileEntry = { path: '../engine', type: 'dir', mode: 0o755, size: 0 };
    const app = prev.app!;
    const entries = [...app.layers[0]!.entries, forgedEntry];
    prev.app = {
      ...app,
      manifest: { ...app.manifest, digest: 'sha256:' + '1'.repeat(64), entries: [...app.manifest.entries, forgedEntry] },
      layers: [{ ...app.layers[0]!, entries, inputKey: layerInputKey(mounts.app, entries) }, ...app.layers.slice(1)],
    };
    let err: unknown;
    try {
      planIncremental(game([file('a.cfg')]), prev, opts);
    } catch (e) {
      err = e;
    }
    expect((err as GamelayerError)?.code).toBe('plan.path-outside');
    expect((err as GamelayerError).message).toContain('app: the patch layer would touch "../engine"');
  });
});
