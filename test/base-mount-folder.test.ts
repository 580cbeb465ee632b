// The mount folder itself (stop 44): every layer of a tree carries its mount folder, which was root 0755 whatever the
// base held there. A base holding `/srv/game` as uid 1000 0750 (made for the server's user) lost it to the first
// layer. Now, as `COPY app /srv/game` keeps an existing destination folder, the layers keep the base's owner and mode
// there (root 0755 where the base lacks it, as every folder of a tree is written); a base holding a symlink (or a
// file) at the mount is refused; and a tree mounted inside another's mount writes the folders in between as the
// outer tree does, so its layers never change the outer tree's folders. A folder in between that the outer tree's
// source lacks was written root 0755 by the inner tree all the same, over the base's (stop 45): it keeps the base's
// now, as `COPY app-media /srv/game/mods/paks` keeps it. Built through the CLI, checked on Docker and with GNU tar
// over the layers skopeo names.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import type { TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'mountfolder-test';
const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
let root: string;
const bases: Record<string, string> = {};

async function writeConfig(base: string, mounts: Record<string, string>): Promise<void> {
  await writeFile(
    path.join(root, 'gamelayer.yaml'),
    [
      `game: ${GAME}`,
      'version: 1.0.0',
      `baseImage: ${base}`,
      'start: ["/bin/sh", "-c", "sleep 1"]',
      'trees:',
      ...TREES.map((t) => `  ${t}: {source: ./${t}${mounts[t] ? `, mount: ${mounts[t]}` : ''}}`),
      '',
    ].join('\n'),
  );
}

/** The last entry at `name` in the layers of `tag` in the build's store, in layer order, as GNU tar lists it. */
function lastInLayers(tag: string, name: string): string {
  const store = path.join(root, '.gamelayer/oci');
  const raw = spawnSync('skopeo', ['inspect', '--raw', `oci:${store}:${tag}`], { encoding: 'utf8' });
  expect(raw.status, raw.stderr).toBe(0);
  let last = '';
  for (const l of (JSON.parse(raw.stdout) as { layers: { digest: string }[] }).layers) {
    const tar = spawnSync('tar', ['--numeric-owner', '-tvzf', path.join(store, 'blobs/sha256', l.digest.slice(7))], { encoding: 'utf8' });
    expect(tar.status, tar.stderr).toBe(0);
    for (const line of tar.stdout.split('\n')) {
      const f = line.split(/\s+/);
      if (f[5]?.replace(/\/$/, '') === name) last = `${f[0]} ${f[1]}`;
    }
  }
  return last;
}

function stat(image: string, paths: string[]): string {
  const r = spawnSync('docker', ['run', '--rm', '--entrypoint', 'sh', image, '-c', `stat -c "%n %u:%g %a" ${paths.join(' ')}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  root = await tempDir('gl-mountfolder-');
  for (const t of TREES) {
    await mkdir(path.join(root, t));
    await writeFile(path.join(root, t, 'hello.txt'), `${t}\n`);
  }
  // The outer tree of the nested case has a folder `mods` of its own, above the inner tree's mount.
  await mkdir(path.join(root, 'engine', 'mods'));
  await writeFile(path.join(root, 'engine', 'mods', 'readme.txt'), 'mods\n');
  bases.owned = await writeBusyboxLayout(path.join(root, 'owned'), {
    extraLayers: [[dir('srv/'), dir('srv/game/', 0o750, 1000), dir('srv/game/mods/', 0o700, 1000)]],
  });
  bases.link = await writeBusyboxLayout(path.join(root, 'link'), {
    extraLayers: [[dir('srv/'), { ...at, name: 'srv/game', type: 'symlink', mode: 0o777, linkname: '/tmp' }]],
  });
}, 60_000);

afterAll(() => {
  const tags = ['own', 'nest', 'gap'].flatMap((t) => [t, ...TREES.map((x) => `${t}-${x}`)]).map((t) => `${GAME}:${t}`);
  removeImagesAfterRun(tags);
});

describe('the mount folder on a base that holds it', () => {
  it("keeps the base's owner and mode at the mount, in the server and tree images", async () => {
    await writeConfig(bases.owned!, { app: '/srv/game' });
    const r = await runCli(['build', '--tag', 'own'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const load = await runCli(['load', '--tag', 'own'], { cwd: root });
    expect(load.code, load.stderr).toBe(0);
    for (const image of [`${GAME}:own`, `${GAME}:own-app`]) expect(stat(image, ['/srv/game']), image).toBe('/srv/game 1000:1000 750\n');
    // The record keeps it beside the folders above, so a fresh host plans the same keys.
    const record = JSON.parse(await readFile(path.join(root, '.gamelayer/records/build-own.json'), 'utf8')) as { parents?: Record<string, Record<string, unknown>> };
    expect(Object.values(record.parents ?? {})[0]?.app).toEqual([{ path: 'srv/game', uid: 1000, gid: 1000, mode: 0o750 }]);
    // --builder docker then copies the tree to its mount (docker keeps an existing destination folder as it is).
    const df = await runCli(['dockerfile', '--out', 'df', '--docker-compat'], { cwd: root });
    expect(df.code, df.stderr).toBe(0);
    expect(await readFile(path.join(root, 'df', 'Dockerfile'), 'utf8')).toContain('COPY --from=app ["/layer-0/srv/game/", "/srv/game/"]');
  });

  it('a nested tree writes the outer mount and the folders in between as the outer tree does', async () => {
    await writeConfig(bases.owned!, { engine: '/srv/game', app: '/srv/game/mods/app' });
    const r = await runCli(['build', '--tag', 'nest'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const load = await runCli(['load', '--tag', 'nest'], { cwd: root });
    expect(load.code, load.stderr).toBe(0);
    // The outer tree's mount is the base's; `mods` is the outer tree's own folder (root 0755, as its folders are
    // written): the inner tree's layer, which comes later, must not bring back the base's uid 1000 0700 there.
    const want = '/srv/game 1000:1000 750\n/srv/game/mods 0:0 755\n';
    expect(stat(`${GAME}:nest-engine`, ['/srv/game', '/srv/game/mods'])).toBe(want);
    expect(stat(`${GAME}:nest`, ['/srv/game', '/srv/game/mods'])).toBe(want);
    expect(stat(`${GAME}:nest`, ['/srv/game/mods/app'])).toBe('/srv/game/mods/app 0:0 755\n');
  });

  it("a folder in between that the outer tree's source lacks keeps the base's owner and mode", async () => {
    // The outer tree (app, only hello.txt) has no `mods`: nothing of it writes /srv/game/mods, the inner tree's layers do.
    await writeConfig(bases.owned!, { app: '/srv/game', 'app-media': '/srv/game/mods/paks' });
    const r = await runCli(['build', '--tag', 'gap'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    for (const tag of ['gap', 'gap-app-media']) expect(lastInLayers(tag, 'srv/game/mods'), tag).toBe('drwx------ 1000/1000');
    expect(lastInLayers('gap', 'srv/game/mods/paks')).toBe('drwxr-xr-x 0/0');
    const load = await runCli(['load', '--tag', 'gap'], { cwd: root });
    expect(load.code, load.stderr).toBe(0);
    const want = '/srv/game 1000:1000 750\n/srv/game/mods 1000:1000 700\n/srv/game/mods/paks 0:0 755\n';
    expect(stat(`${GAME}:gap`, ['/srv/game', '/srv/game/mods', '/srv/game/mods/paks'])).toBe(want);
    expect(stat(`${GAME}:gap-app-media`, ['/srv/game', '/srv/game/mods', '/srv/game/mods/paks'])).toBe(want);
    // The record keeps the base's folder between the mounts: a host taking the folders from it plans the same keys.
    const record = JSON.parse(await readFile(path.join(root, '.gamelayer/records/build-gap.json'), 'utf8')) as { between?: Record<string, unknown> };
    expect(Object.values(record.between ?? {})).toEqual([[{ path: 'srv/game/mods', uid: 1000, gid: 1000, mode: 0o700 }]]);
  });

  it('a symlink at the mount in the base is refused before any layer is written, naming the tree, mount and base', async () => {
    await writeConfig(bases.link!, { app: '/srv/game' });
    const blobs = async () => new Set(await readdir(path.join(root, '.gamelayer/oci/blobs/sha256')));
    const before = await blobs();
    const r = await runCli(['build', '--tag', 'link'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[base.mount-not-folder]: app: mount /srv/game is, in the base image ${bases.link}, a symlink to /tmp, not a folder`);
    expect(r.stderr).toContain("hint: mount the tree at the link's target (/tmp)");
    const base = new Set(await readdir(path.join(root, 'link/blobs/sha256')));
    expect([...(await blobs())].filter((b) => !before.has(b) && !base.has(b))).toEqual([]);
  });
});
