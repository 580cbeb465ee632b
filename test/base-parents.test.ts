// The final state in a base image of the folders above the mounts, from its layers' tars applied in order: entries,
// `.wh.` whiteouts, opaque folders, an ancestor replaced by a file or link; kept as a marker that a damaged copy of
// does not fool. Real tars (the product's tar writer), gzip and plain; the CLI's side is base-mount-parents.test.ts.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { baseNodes, mountFolders, type BaseLayerBlob } from '../src/oci/base-parents.js';
import { foldersBetweenMounts, mountParents, nodesFromRecord, recordedParents, sourcesMountParents, type BaseNodes } from '../src/plan/mount-parents.js';
import type { TreeManifest, TreeName } from '../src/types.js';
import { tarOf, type TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';

const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
const file = (name: string): TarEntry => ({ ...at, name, type: 'file', mode: 0o644, size: 0 });
const link = (name: string, to: string): TarEntry => ({ ...at, name, type: 'symlink', mode: 0o777, linkname: to });

let opened = 0;
async function layer(entries: TarEntry[], gzip = true): Promise<BaseLayerBlob> {
  const tar = await tarOf(entries, new Map());
  const bytes = gzip ? gzipSync(tar) : tar;
  return {
    digest: `sha256:${String(entries.length).padStart(64, '0')}${Math.random()}`,
    mediaType: gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
    open: () => {
      opened++;
      return Readable.from([bytes]);
    },
  };
}

const PATHS = mountFolders(['/home/steam/game', '/opt/local/engine', '/']);

describe('the base folders above the mounts', () => {
  it('lists every folder strictly above each mount', () => {
    expect(PATHS).toEqual(['home', 'home/steam', 'home/steam/game', 'opt', 'opt/local', 'opt/local/engine']);
  });

  it('takes the last layer that says, with whiteouts and opaque folders hiding what is below', async () => {
    const layers = [
      await layer([dir('home/'), dir('home/steam/', 0o700, 5), dir('opt/'), dir('opt/local/', 0o775)]),
      // Its own home re-made by a later layer: the later owner wins; /opt/local whited out.
      await layer([dir('home/steam/', 0o2750, 1000), file('opt/.wh.local')], false),
    ];
    const nodes = await baseNodes(layers, PATHS, undefined);
    expect(Object.fromEntries(nodes)).toEqual({
      home: { type: 'dir', uid: 0, gid: 0, mode: 0o755 },
      'home/steam': { type: 'dir', uid: 1000, gid: 1000, mode: 0o2750 },
      opt: { type: 'dir', uid: 0, gid: 0, mode: 0o755 },
    });
    // An opaque /home hides the lower /home/steam; the layer's own entries stay, wherever they come in the tar.
    const opaque = await baseNodes([...layers, await layer([dir('home/', 0o711), file('home/.wh..wh..opq')])], PATHS, undefined);
    expect(opaque.get('home')).toEqual({ type: 'dir', uid: 0, gid: 0, mode: 0o711 });
    expect(opaque.has('home/steam')).toBe(false);
  });

  it('a folder replaced by a link or file loses what was below it, and the mount through it is refused', async () => {
    const layers = [await layer([dir('home/'), dir('home/steam/', 0o750, 1000), dir('srv/')]), await layer([link('home', 'srv')])];
    const nodes = await baseNodes(layers, PATHS, undefined);
    expect(Object.fromEntries(nodes)).toEqual({ home: { type: 'symlink', target: 'srv' } });
    expect(() => mountParents('app', '/home/steam/game', nodes, 'oci:base')).toThrow(
      'app: mount /home/steam/game goes through /home, which the base image oci:base holds as a symlink to srv: the layer\'s folder /home would replace it',
    );
    const asFile = await baseNodes([await layer([file('opt')])], PATHS, undefined);
    expect(() => mountParents('engine', '/opt/local/engine', asFile, 'oci:base')).toThrow('holds as a file');
  });

  it('only folders that are not root 0755 are carried; a missing one is as ever', async () => {
    const nodes = await baseNodes([await layer([dir('home/'), dir('home/steam/', 0o750, 1000)])], PATHS, undefined);
    expect([...mountParents('app', '/home/steam/game', nodes, 'b')]).toEqual([['home/steam', { uid: 1000, gid: 1000, mode: 0o750 }]]);
    expect(mountParents('engine', '/opt/local/engine', nodes, 'b').size).toBe(0);
  });

  it('a folder between nested mounts is the outer tree\'s where its source holds it, else the base\'s; a record rebuilds it', () => {
    const mounts: Record<TreeName, string> = { engine: '/opt/engine', 'engine-media': '/opt/engine-media', app: '/srv/game', 'app-media': '/srv/game/Content/Paks' };
    expect(foldersBetweenMounts(mounts)).toEqual(['srv/game/Content']);
    const owned = (uid: number, mode: number) => ({ type: 'dir' as const, uid, gid: uid, mode });
    const nodes: BaseNodes = new Map([['srv', owned(0, 0o755)], ['srv/game', owned(1000, 0o750)], ['srv/game/Content', owned(1000, 0o700)]]);
    const manifest = (tree: TreeName, paths: string[]) => ({ tree, entries: paths.map((p) => ({ path: p, type: 'dir', mode: 0o755, size: 0 })) }) as unknown as TreeManifest;
    const others = (['engine', 'engine-media', 'app-media'] as const).map((t) => manifest(t, []));
    const lacks = sourcesMountParents(mounts, nodes, 'b', [...others, manifest('app', ['Maps'])]);
    expect([...lacks.parents['app-media']]).toEqual([['srv/game', { uid: 1000, gid: 1000, mode: 0o750 }], ['srv/game/Content', { uid: 1000, gid: 1000, mode: 0o700 }]]);
    const holds = sourcesMountParents(mounts, nodes, 'b', [...others, manifest('app', ['Content', 'Maps'])]);
    expect([...holds.parents['app-media']]).toEqual([['srv/game', { uid: 1000, gid: 1000, mode: 0o750 }]]);
    // Either way the record keeps the base's folder in between, so a host that takes the folders from it knows it.
    const record = recordedParents([{ name: 'linux/amd64', ...holds }]);
    expect(record.between).toEqual({ 'linux/amd64': [{ path: 'srv/game/Content', uid: 1000, gid: 1000, mode: 0o700 }] });
    const again = nodesFromRecord(record, 'linux/amd64', true)!;
    expect(sourcesMountParents(mounts, again, 'b', [...others, manifest('app', ['Maps'])]).parents).toEqual(lacks.parents);
    // A record without `between` (made before it) is not taken for nested mounts.
    expect(nodesFromRecord({ parents: record.parents }, 'linux/amd64', true)).toBeUndefined();
    // Without the sources (the rule before): the folder in between is the outer tree's.
    expect([...mountParents('app-media', mounts['app-media'], nodes, 'b', [mounts.app])]).toEqual([['srv/game', { uid: 1000, gid: 1000, mode: 0o750 }]]);
  });

  it('keeps the answer as a marker: read back without the layers; a damaged or foreign one is computed again', async () => {
    const markers = await tempDir('gl-base-parents-');
    const layers = [await layer([dir('home/'), dir('home/steam/', 0o750, 1000)])];
    const first = await baseNodes(layers, PATHS, markers);
    const before = opened;
    expect(await baseNodes(layers, PATHS, markers)).toEqual(first);
    expect(opened).toBe(before);
    const [name] = await readdir(markers);
    const text = await readFile(path.join(markers, name!), 'utf8');
    await writeFile(path.join(markers, name!), text.replace('1000', '0'));
    expect(await baseNodes(layers, PATHS, markers)).toEqual(first);
    expect(opened).toBe(before + 1);
    // Other paths asked: another marker, computed.
    await baseNodes(layers, ['home'], markers);
    expect(opened).toBe(before + 2);
  });
});
