// The folders above a tree's mount on a base that holds them as someone else's: a SteamCMD-style base has
// `/home/steam` owned by uid 1000, mode 0750, and runs as `USER 1000`. A tree mounted at `/home/steam/game` wrote
// `/home/steam` as root 0755 (every layer carries the folders above its mount), and a runtime shows the layer's copy:
// the server could not write its own home. The layers now take the base's owner and mode there (as `COPY app
// /home/steam/game` keeps them); a mount through a base symlink is refused before any layer is written; bases that
// hold those folders as root 0755 (or not at all) keep their layers' bytes. Run on the real Docker engine.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBaseImage } from '../src/dockerfile/emit.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import type { TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'parents-test';
const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
let root: string;
let registry: TestRegistry | undefined;
const bases: Record<string, string> = {};

/** The game's layers by tree and index (digest and diff_id), from the build's record. */
async function recordLayers(tag: string, game = root): Promise<Record<string, string>> {
  const record = JSON.parse(await readFile(path.join(game, '.gamelayer/records', `build-${tag}.json`), 'utf8')) as { layers: { tree: string; index: number; diffID: string }[] };
  return Object.fromEntries(record.layers.map((l) => [`${l.tree}/${l.index}`, l.diffID]));
}

async function useBase(ref: string): Promise<void> {
  const yaml = path.join(root, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^baseImage: .*$/m, `baseImage: ${ref}`));
}

function inImage(image: string, script: string): { out: string; status: number | null } {
  const r = spawnSync('docker', ['run', '--rm', '--user', '1000', '--entrypoint', 'sh', image, '-c', script], { encoding: 'utf8' });
  return { out: r.stdout + r.stderr, status: r.status };
}

const CHECK = 'stat -c "%u:%g %a" /home/steam; touch /home/steam/.written && echo home-writable; cat /home/steam/game/hello.txt';

beforeAll(async () => {
  root = await tempDir('gl-parents-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) {
    await mkdir(path.join(root, t));
    await writeFile(path.join(root, t, 'hello.txt'), `${t}\n`);
  }
  bases.steam = await writeBusyboxLayout(path.join(root, 'steam'), { extraLayers: [[dir('home/'), dir('home/steam/', 0o750, 1000)]] });
  bases.plain = await writeBusyboxLayout(path.join(root, 'plain'), { extraLayers: [[dir('home/'), dir('home/steam/')]] });
  bases.link = await writeBusyboxLayout(path.join(root, 'link'), {
    extraLayers: [[dir('data/'), dir('data/steam/', 0o750, 1000), dir('home/'), { ...at, name: 'home/steam', type: 'symlink', mode: 0o777, linkname: '/data/steam' }]],
  });
  await writeFile(
    path.join(root, 'gamelayer.yaml'),
    [
      `game: ${GAME}`,
      'version: 1.0.0',
      `baseImage: ${bases.plain}`,
      'start: ["/bin/sh", "-c", "sleep 1"]',
      'trees:',
      '  engine: {source: ./engine}',
      '  engine-media: {source: ./engine-media}',
      '  app: {source: ./app, mount: /home/steam/game}',
      '  app-media: {source: ./app-media}',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await registry?.stop();
  const tags = ['plain', 'steam', 'docker', 'dreg'].flatMap((t) => [t, ...['engine', 'engine-media', 'app', 'app-media'].map((x) => `${t}-${x}`)]).map((t) => `${GAME}:${t}`);
  if (registry) tags.push(`${registry.host}/base/steam:1`); // pulled by the docker builder
  if (bases.steam) tags.push(dockerBaseImage(GAME, bases.steam).image); // loaded by it
  removeImagesAfterRun(tags);
});

describe('folders above a mount, on a base that holds them', () => {
  let plain: Record<string, string>;

  it('a base holding them as root 0755 gives the layers of a scratch build, byte for byte', async () => {
    const r = await runCli(['build', '--tag', 'plain'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    plain = await recordLayers('plain');
    await useBase('scratch');
    const s = await runCli(['build', '--tag', 'scratch'], { cwd: root });
    expect(s.code, s.stderr).toBe(0);
    expect(await recordLayers('scratch')).toEqual(plain);
    const load = await runCli(['load', '--tag', 'plain'], { cwd: root });
    expect(load.code, load.stderr).toBe(0);
    expect(inImage(`${GAME}:plain`, 'stat -c "%u:%g %a" /home/steam').out).toBe('0:0 755\n');
  });

  it("a base's uid-1000 0750 home stays the server's: its owner and mode, writable by uid 1000, in the server and tree images", async () => {
    await useBase(bases.steam!);
    const r = await runCli(['build', '--tag', 'steam'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    // The previous build's app layers were made with other folders: planned afresh, not taken for a damaged record.
    expect(r.stderr).not.toContain('damaged');
    const load = await runCli(['load', '--tag', 'steam'], { cwd: root });
    expect(load.code, load.stderr).toBe(0);
    for (const image of [`${GAME}:steam`, `${GAME}:steam-app`]) {
      const run = inImage(image, CHECK);
      expect(run.out, image).toBe('1000:1000 750\nhome-writable\napp\n');
      expect(run.status).toBe(0);
    }
    const steam = await recordLayers('steam');
    // Only the tree under /home/steam has other layers (built again, not the cached ones of the plain base).
    expect(Object.keys(steam).filter((k) => steam[k] !== plain[k])).toEqual(Object.keys(steam).filter((k) => k.startsWith('app/')));
  });

  it('a no-op build on it builds nothing and takes the base from its marker; a damaged marker is read again', async () => {
    const folder = path.join(root, '.gamelayer/cache/verified-blobs');
    // One marker per base read (the plain one's and this one's): this one names uid 1000.
    const names = (await readdir(folder)).filter((n) => n.startsWith('parents-'));
    const texts = await Promise.all(names.map((n) => readFile(path.join(folder, n), 'utf8')));
    const mine = names.filter((_, i) => texts[i]!.includes('"uid":1000'));
    expect(mine).toHaveLength(1);
    const marker = path.join(folder, mine[0]!);
    const written = (await stat(marker)).mtimeMs;
    const r = await runCli(['build', '--tag', 'steam'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('layers: 0 built, 4 reused');
    // Computed afresh, the marker would have been written again.
    expect((await stat(marker)).mtimeMs).toBe(written);
    const good = await readFile(marker, 'utf8');
    await writeFile(marker, good.replace('1000', '0'));
    const again = await runCli(['build', '--tag', 'steam'], { cwd: root });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('layers: 0 built, 4 reused');
    expect(await readFile(marker, 'utf8')).toBe(good);
  });

  it('a cached layer no record vouches for is proven against its tar with the base\'s folders, and reused', async () => {
    await rm(path.join(root, '.gamelayer/records'), { recursive: true });
    const r = await runCli(['build', '--tag', 'steam'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('layer cache row not used');
    expect(r.stdout).toContain('layers: 0 built, 4 reused');
  });

  it('a docker-archive base (plain tar layers) gives the same layers as the layout it was copied from', async () => {
    const archive = path.join(root, 'steam.tar');
    const copy = spawnSync('skopeo', ['copy', `oci:${path.join(root, 'steam')}:busybox`, `docker-archive:${archive}:steam:1`], { encoding: 'utf8' });
    expect(copy.status, copy.stderr).toBe(0);
    await useBase(`docker-archive:${archive}`);
    const r = await runCli(['build', '--tag', 'archive'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(await recordLayers('archive')).toEqual(await recordLayers('steam'));
  });

  it('a registry base in the registry pushed to (no store copy of its layers) is read there', async () => {
    registry = await startRegistry();
    const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${path.join(root, 'steam')}:busybox`, `docker://${registry.host}/base/steam:1`], { encoding: 'utf8' });
    expect(copy.status, copy.stderr).toBe(0);
    await useBase(`${registry.host}/base/steam:1`);
    // A fresh state folder: no store copy of the base's layers, no marker.
    const fresh = path.join(root, 'fresh');
    await mkdir(fresh);
    for (const t of ['engine', 'engine-media', 'app', 'app-media', 'gamelayer.yaml']) await cp(path.join(root, t), path.join(fresh, t), { recursive: true });
    const image = `${registry.host}/studio/parents`;
    const r = await runCli(['build', '--push', image, '--tag', 'reg'], { cwd: fresh });
    expect(r.code, r.stderr).toBe(0);
    expect(await recordLayers('reg', fresh)).toEqual(await recordLayers('steam'));
    // The base's layers were read from the registry for the folders (and kept as they were read; mounted at push).
    const layout = path.join(root, 'steam');
    const blob = async (d: string) => JSON.parse(await readFile(path.join(layout, 'blobs/sha256', d.slice(7)), 'utf8')) as { manifests: { digest: string }[]; layers: { digest: string }[] };
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const baseLayers = (await blob(index.manifests[0]!.digest)).layers.map((l) => l.digest.slice(7));
    const stored = await readdir(path.join(fresh, '.gamelayer/oci/blobs/sha256'));
    expect(baseLayers).toHaveLength(2);
    expect(stored.filter((b) => baseLayers.includes(b)).sort()).toEqual([...baseLayers].sort());
    expect((await readdir(path.join(fresh, '.gamelayer/cache/verified-blobs'))).filter((n) => n.startsWith('parents-'))).toHaveLength(1);
    const pull = spawnSync('docker', ['pull', '-q', `${image}:reg`], { encoding: 'utf8' });
    expect(pull.status, pull.stderr).toBe(0);
    expect(inImage(`${image}:reg`, CHECK).out).toBe('1000:1000 750\nhome-writable\napp\n');
    removeImagesAfterRun([`${image}:reg`]);
  });

  it('a mount through a base symlink is refused before any layer is written', async () => {
    await useBase(bases.link!);
    const blobs = async () => new Set(await readdir(path.join(root, '.gamelayer/oci/blobs/sha256')));
    const before = await blobs();
    const r = await runCli(['build', '--tag', 'link'], { cwd: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[base.mount-through-link]: app: mount /home/steam/game goes through /home/steam, which the base image ${bases.link} holds as a symlink to /data/steam`);
    expect(r.stderr).toContain("hint: mount the tree at the link's target (/data/steam/game)");
    // The base's own layers were copied in (verified, to be read); no layer of the game was made.
    const base = new Set(await readdir(path.join(root, 'link/blobs/sha256')));
    expect([...(await blobs())].filter((b) => !before.has(b) && !base.has(b))).toEqual([]);
  });

  it('--builder docker copies the tree to its mount, keeping the base\'s home', async () => {
    await useBase(bases.steam!);
    const df = await runCli(['dockerfile', '--out', 'df', '--docker-compat'], { cwd: root });
    expect(df.code, df.stderr).toBe(0);
    const text = await readFile(path.join(root, 'df', 'Dockerfile'), 'utf8');
    expect(text).toContain('COPY --from=app ["/layer-0/home/steam/game/", "/home/steam/game/"]');
    expect(text).toContain('COPY --from=engine ["/layer-0/", "/"]');
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '--tag', 'docker'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    for (const image of [`${GAME}:docker`, `${GAME}:docker-app`]) {
      const run = inImage(image, CHECK);
      expect(run.out, image).toBe('1000:1000 750\nhome-writable\napp\n');
    }
  });

  it('--builder docker on a base by reference reads its folders from the daemon\'s copy (dockerfile alone stays offline)', async () => {
    const fresh = path.join(root, 'fresh');
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '--tag', 'dreg'], { cwd: fresh });
    expect(r.code, r.stderr).toBe(0);
    const run = inImage(`${GAME}:dreg`, CHECK);
    expect(run.out).toBe('1000:1000 750\nhome-writable\napp\n');
    const df = await runCli(['dockerfile', '--out', 'df', '--docker-compat'], { cwd: fresh });
    expect(df.code, df.stderr).toBe(0);
    expect(await readFile(path.join(fresh, 'df', 'Dockerfile'), 'utf8')).toContain('COPY --from=app ["/layer-0/", "/"]');
  });
});
