// Each tree owns its mount and nothing else (issue 14, item 1): nested mounts are refused at their yaml position,
// and the layer writer and the patch planner refuse any entry or whiteout that would land outside the mount.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { dirContentSource, type ContentSource } from '../src/oci/content.js';
import { layerTar, layerTarEntries } from '../src/oci/tar.js';
import { planIncremental, type PreviousTree } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
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
  it('refuses a tree mounted at a parent of another tree (the attack of issue 14), at the yaml position', () => {
    const e = errorOf(yaml({ engine: '/opt/local/engine', app: '/opt/local' }));
    expect(e.code).toBe('config.mount-overlap');
    expect(e.message).toBe(
      `${FILE}:6:29: trees.app.mount: /opt/local/engine (tree engine) lies inside /opt/local (tree app); expected mounts that do not contain each other`,
    );
    expect(e.hint).toMatch(/tree app could delete or replace files of tree engine/);
  });

  it('refuses it in either order of the trees, with trailing slashes, and at the image root', () => {
    expect(errorOf(yaml({ engine: '/srv', 'app-media': '/srv/game/media/' })).message).toMatch(
      /:7:\d+: trees\.app-media\.mount: \/srv\/game\/media \(tree app-media\) lies inside \/srv \(tree engine\)/,
    );
    expect(errorOf(yaml({ 'engine-media': '/' })).message).toMatch(/trees\.engine-media\.mount: \/opt\/local\/engine \(tree engine\) lies inside \/ \(tree engine-media\)/);
    expect(errorOf(yaml({ app: '/opt/local/engine/app' })).code).toBe('config.mount-overlap');
  });

  it('accepts mounts that only share a name prefix', () => {
    const c = parseConfig(yaml({ engine: '/opt/game', app: '/opt/game-app', 'app-media': '/opt/gamex' }), FILE);
    expect(c.trees.app.mount).toBe('/opt/game-app');
  });

  it('gamelayer build refuses the nested mounts with the position in the yaml, and exits non-zero', async () => {
    const root = await tempDir('gl-mounts-');
    await writeGame(root);
    const file = path.join(root, 'gamelayer.yaml');
    const text = (await readFile(file, 'utf8')).replace('app: {source: app}', 'app: {source: app, mount: /opt/local}');
    await writeFile(file, text);
    const r = await runCli(['build', '-c', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:7:`);
    expect(r.stderr).toContain('trees.app.mount: /opt/local/engine (tree engine) lies inside /opt/local (tree app)');
  });
});

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
    // A forged previous record: its app tree "held" ../engine, which the new scan no longer has. The layers say so
    // too: a patch is what the kept layers unpack to against the scan (issue 16), so a forged manifest alone is ignored.
    const before = game([file('a.cfg')]);
    const climb: FileEntry = { path: '../engine', type: 'dir', mode: 0o755, size: 0 };
    const forged: TreeManifest = { ...before[2]!, digest: 'sha256:' + '1'.repeat(64), entries: [...before[2]!.entries, climb] };
    const layersOf = (t: TreeName) => planLayers(before, opts).layers.filter((l) => l.tree === t).map((l) => (t === 'app' ? { ...l, entries: [...l.entries, climb] } : l));
    const prev = Object.fromEntries(
      TREE_NAMES.map((t, i) => [t, { manifest: t === 'app' ? forged : before[i]!, layers: layersOf(t) }]),
    ) as Partial<Record<TreeName, PreviousTree>>;
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
