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

  it('a folder named twice with the same header means the same on every runtime: taken', async () => {
    await useBase(await archiveBase('same-twice', [[dir('home/'), dir('home/steam/', 0o750, 1000), dir('home/steam/', 0o750, 1000)]]));
    const r = await runCli(['build', '--tag', 'same-twice'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
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
