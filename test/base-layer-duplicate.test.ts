// A base image whose layer names a folder at or above a tree's mount twice, as a folder and as a file. The image spec
// forbids it ("MUST NOT include duplicate entries for file paths", layer.md) and runtimes disagree: Docker refuses
// the layer, containerd keeps the last entry. The build took the last entry silently, so whether the tree's mount
// was a folder depended on the node. Now such a base is refused, naming the base, the layer and the path, before any
// layer of the game is written. The same path in two layers is the spec's overwrite: the later layer wins (a file
// replacing a folder hides what was below it), and so does the build's answer.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import type { TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { mountFolders } from '../src/oci/base-parents.js';
import { writeCheckedJson } from '../src/util/checked-json.js';

const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
const file = (name: string): TarEntry => ({ ...at, name, type: 'file', mode: 0o644, size: 0 });
let root: string;

async function useBase(ref: string): Promise<void> {
  const yaml = path.join(root, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^baseImage: .*$/m, `baseImage: ${ref}`));
}

/** A busybox base with `layers` on top, saved as a docker-archive (skopeo, as a studio would). */
async function archiveBase(name: string, layers: TarEntry[][]): Promise<string> {
  const layout = await writeBusyboxLayout(path.join(root, name), { extraLayers: layers });
  const archive = path.join(root, `${name}.tar`);
  const copy = spawnSync('skopeo', ['copy', layout, `docker-archive:${archive}:${name}:1`], { encoding: 'utf8' });
  expect(copy.status, copy.stderr).toBe(0);
  return `docker-archive:${archive}`;
}

const blobs = async () => new Set(await readdir(path.join(root, '.gamelayer/oci/blobs/sha256')).catch(() => []));

beforeAll(async () => {
  root = await tempDir('gl-base-dup-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) {
    await mkdir(path.join(root, t));
    await writeFile(path.join(root, t, 'hello.txt'), `${t}\n`);
  }
  // The app tree below a home folder the base may hold (or fake): the folders above its mount are read from the base.
  const mounts: Record<string, string> = { app: ', mount: /home/steam/game' };
  const trees = ['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ./${t}${mounts[t] ?? ''}}`);
  await writeFile(path.join(root, 'gamelayer.yaml'), ['game: base-dup-test', 'baseImage: scratch', 'start: ["/bin/sh", "-c", "sleep 1"]', 'trees:', ...trees, ''].join('\n'));
}, 60_000);

describe('a base layer naming a folder above a mount twice', () => {
  it('as a file and as a folder in one layer (either order): refused before any layer of the game is written', async () => {
    for (const [name, layer, second] of [
      ['file-then-dir', [dir('home/'), file('home/steam'), dir('home/steam/', 0o750, 1000)], 'a folder (uid 1000, gid 1000, mode 0750)'],
      ['dir-then-file', [dir('home/'), dir('home/steam/', 0o750, 1000), file('home/steam')], 'a file'],
    ] as const) {
      await useBase(await archiveBase(name, [[...layer]]));
      const before = await blobs();
      const r = await runCli(['build', '--tag', name], { cwd: root });
      expect(r.code).not.toBe(0);
      const first = name === 'file-then-dir' ? 'a file' : 'a folder (uid 1000, gid 1000, mode 0750)';
      expect(r.stderr).toMatch(new RegExp(`error\\[base\\.layer-duplicate\\]: base image docker-archive:\\S+${name}\\.tar: layer sha256:[0-9a-f]{64} holds /home/steam twice, as ${first.replace(/[()]/g, '\\$&')} and as ${second.replace(/[()]/g, '\\$&')}`));
      expect(r.stderr).toContain('hint: rebuild the base image so that each layer names each path once');
      expect(r.stderr).not.toContain('error[internal]');
      // Nothing of the game was made: no blob beyond the base's (its layers are copied in to be read), no tag, no record.
      const base = archiveLayers(path.join(root, `${name}.tar`));
      expect([...(await blobs())].filter((b) => !before.has(b) && !base.includes(b))).toEqual([]);
      expect(await readFile(path.join(root, '.gamelayer/oci/index.json'), 'utf8').catch(() => '')).not.toContain(name);
      expect(existsRecord(name)).toBe(false);
    }
  });

  it('the same path in two layers is the later layer\'s: a folder over a file is a folder, a file over a folder is refused as the mount\'s', async () => {
    await useBase(await archiveBase('over-file', [[dir('home/'), file('home/steam')], [dir('home/steam/', 0o750, 1000)]]));
    const ok = await runCli(['build', '--tag', 'over-file'], { cwd: root });
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsRecord('over-file')).toBe(true);
    await useBase(await archiveBase('over-dir', [[dir('home/'), dir('home/steam/', 0o750, 1000)], [file('home/steam')]]));
    const r = await runCli(['build', '--tag', 'over-dir'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error[base.mount-through-link]: app: mount /home/steam/game goes through /home/steam, which the base image');
    expect(r.stderr).toContain('holds as a file');
  });

  it('a folder named twice with the same header: refused too (Docker refuses the same header twice as well)', async () => {
    await useBase(await archiveBase('same-twice', [[dir('home/'), dir('home/steam/', 0o750, 1000), dir('home/steam/', 0o750, 1000)]]));
    const r = await runCli(['build', '--tag', 'same-twice'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error\[base\.layer-duplicate\]: base image docker-archive:\S+same-twice\.tar: layer sha256:[0-9a-f]{64} holds \/home\/steam twice: /);
  });
});

// Below the mounts' folders the build took any path twice: every image it made carried the base's layer, and Docker
// refused each at `docker load` or pull ("duplicates of file paths not supported"), at deploy. The folders pass reads
// every entry of every base layer anyway; it now refuses a path named twice anywhere.
describe('a base layer naming any path twice', () => {
  const etc = (content: 'same' | 'other'): TarEntry[] => [dir('etc/'), { ...file('etc/motd') }, { ...file('etc/motd'), mode: content === 'same' ? 0o644 : 0o600 }];

  it('is refused at build, naming the base, the layer and the path, before any layer of the game is written; Docker refuses it too', async () => {
    for (const content of ['same', 'other'] as const) {
      const name = `etc-twice-${content}`;
      const ref = await archiveBase(name, [etc(content)]);
      // The real Docker engine refuses the base itself: the images built on it would fare the same.
      const load = spawnSync('docker', ['load', '-i', path.join(root, `${name}.tar`)], { encoding: 'utf8' });
      expect(load.status).not.toBe(0);
      expect(load.stderr).toContain('duplicates of file paths not supported');
      await useBase(ref);
      const before = await blobs();
      const r = await runCli(['build', '--tag', name], { cwd: root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`error\\[base\\.layer-duplicate\\]: base image docker-archive:\\S+${name}\\.tar: layer sha256:[0-9a-f]{64} holds /etc/motd twice: an OCI layer names each path once, and Docker refuses every image on this layer`));
      expect(r.stderr).toContain('hint: rebuild the base image so that each layer names each path once');
      const base = archiveLayers(path.join(root, `${name}.tar`));
      expect([...(await blobs())].filter((b) => !before.has(b) && !base.includes(b))).toEqual([]);
      expect(existsRecord(name)).toBe(false);
    }
  });

  it('`./etc/motd` and `etc/motd` are one path (as Docker cleans them)', async () => {
    await useBase(await archiveBase('dot-twice', [[dir('etc/'), file('etc/motd'), file('./etc/motd')]]));
    const r = await runCli(['build', '--tag', 'dot-twice'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds /etc/motd twice');
  });

  it('a base folders marker of an older gamelayer (format 2, which did not check every path) is not trusted: the layers are read again', async () => {
    const ref = await archiveBase('etc-twice-marker', [etc('other')]);
    await useBase(ref);
    // What gamelayer of format 2 left after building on this base: its folders, taken without the check.
    const layers = archiveLayers(path.join(root, 'etc-twice-marker.tar')).map((h) => `sha256:${h}`);
    const paths = mountFolders(['/opt/local/engine', '/opt/local/engine-media', '/home/steam/game', '/opt/local/app-media']);
    const old = 'gamelayer-base-parents/2';
    const markers = path.join(root, '.gamelayer/cache/verified-blobs');
    await mkdir(markers, { recursive: true });
    const name = `parents-${createHash('sha256').update(JSON.stringify([old, layers, paths])).digest('hex')}`;
    await writeCheckedJson(path.join(markers, name), old, { layers, paths, nodes: [] });
    const r = await runCli(['build', '--tag', 'etc-twice-marker'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('holds /etc/motd twice');
  });
});

/** The digests (hex) of the layer members a docker-archive's manifest.json names. */
function archiveLayers(archive: string): string[] {
  const manifest = JSON.parse(spawnSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }).stdout) as { Layers: string[] }[];
  return manifest[0]!.Layers.map((m) => createHash('sha256').update(spawnSync('tar', ['-xOf', archive, m], { maxBuffer: 1 << 30 }).stdout).digest('hex'));
}

function existsRecord(tag: string): boolean {
  return spawnSync('test', ['-f', path.join(root, '.gamelayer/records', `build-${tag}.json`)]).status === 0;
}
