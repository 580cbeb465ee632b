// `gamelayer load`: images of the local OCI store into the Docker daemon, so `docker run` works on what the
// daemonless build made. The docker-save archive is streamed to the daemon's load endpoint, never built in memory.
import path from 'node:path';
import { Transform } from 'node:stream';
import type Docker from 'dockerode';
import type { GameConfig } from '../config/load.js';
import { chunkedTreeNames, wholeFilesNeeded } from '../chunk/refuse.js';
import { GamelayerError } from '../errors.js';
import { layoutTags, REF_NAME } from '../oci/layout.js';
import { parseReference } from '../registry/reference.js';
import { count } from '../report/plural.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { lastBuildToRead, readBuildRecord } from '../state/records.js';
import { buildRecordFile } from '../state/record-name.js';
import { TREE_NAMES } from '../types.js';
import { exists } from '../util/exists.js';
import { connectDocker, daemonError, daemonInfo, followStream, streamLines, type DaemonInfo } from './daemon.js';
import { checkDaemonLayers, dockerSaveStream, resolveSaveImages, saveImageName, type DaemonImage, type SaveImage } from './save-format.js';
import { withStoreRead } from '../oci/store-holds.js';

export interface LoadImagesOptions {
  /** OCI image layout directory. */
  layout: string;
  images: SaveImage[];
  docker?: Docker;
  reporter?: Reporter;
}

export interface LoadedImage {
  selector: string;
  repoTags: string[];
  /** Image ID in the daemon (the config digest). */
  id: string;
}

/** Images of the local store into the daemon: the layout source (the daemon's platform picked), then the daemon sink. */
/** Loads holding the store as a reader (load, run-local): a gc waits instead of deleting the blobs being streamed. */
export function loadImages(opts: LoadImagesOptions): Promise<LoadedImage[]> {
  return withStoreRead(opts.layout, () => loadImagesHeld(opts));
}

async function loadImagesHeld(opts: LoadImagesOptions): Promise<LoadedImage[]> {
  const info = await daemonInfo(opts.docker ?? connectDocker());
  const images = await resolveSaveImages(opts.layout, opts.images, daemonPlatform(info));
  return writeImagesToDaemon(images, { info, reporter: opts.reporter });
}

/** The platform images of the daemon's machine (`x86_64` → `amd64`, `aarch64` → `arm64`). */
export function daemonPlatform(info: { os: string; arch: string }): { os: string; architecture: string } {
  return { os: info.os, architecture: info.arch === 'x86_64' ? 'amd64' : info.arch === 'aarch64' ? 'arm64' : info.arch };
}

/**
 * The Docker daemon as a sink of the image model: platform images (from any source: the store, a registry) streamed
 * to its load endpoint as one docker-save archive, every blob verified as it streams.
 */
export async function writeImagesToDaemon(images: DaemonImage[], opts: { docker?: Docker; reporter?: Reporter; info?: DaemonInfo } = {}): Promise<LoadedImage[]> {
  const reporter = opts.reporter ?? silentReporter;
  const info = opts.info ?? (await daemonInfo(opts.docker ?? connectDocker()));
  for (const i of images) checkDaemonLayers(saveImageName(i), i.image);
  const distinct = new Map<string, number>();
  for (const i of images) for (const l of i.image.layers) distinct.set(l.digest, l.size);
  const total = [...distinct.values()].reduce((a, b) => a + b, 0);
  const task = reporter.task(`load ${images.length} image${images.length === 1 ? '' : 's'}`, total, 'bytes');
  const save = dockerSaveStream(undefined, images);
  // Count through a transform, never with a 'data' listener that would start the stream before it is piped.
  const body = save.pipe(
    new Transform({
      transform(c: Buffer, _e, cb) {
        task.tick(c.length);
        cb(null, c);
      },
    }),
  );
  save.on('error', (e) => body.destroy(e));
  let out: NodeJS.ReadableStream;
  try {
    out = await info.docker.loadImage(body, { quiet: true });
  } catch (e) {
    save.destroy();
    body.destroy();
    throw daemonError(e, 'load images', info.address);
  }
  await followStream(out, (m) => streamLines(m).forEach((l) => reporter.info(l)), 'load images', info.address);
  task.done(`${count(images.length, 'image')}, ${count(distinct.size, 'layer')}`);
  return images.map((i) => ({ selector: i.selector, repoTags: i.repoTags, id: i.image.config.digest }));
}

/** The repository docker names a game's images with: the registry's when configured, else the game name. */
export function dockerRepository(config: GameConfig, repository?: string): string {
  const repo = repository ?? config.registry ?? config.game;
  const ref = parseReference(repo);
  if (ref.tag || ref.digest) {
    throw new GamelayerError('docker.repository', `${repository ? '--image' : `${config.file}: registry`} "${repo}": expected a repository without tag or digest`);
  }
  return repo;
}

export interface LoadBuildOptions {
  config: GameConfig;
  /** Build tag in the store; default the last build's tag (else config.version, else `latest`). */
  tag?: string;
  /** Docker repository name; default dockerRepository(config). */
  repository?: string;
  /** Tree images too (default true). */
  trees?: boolean;
  docker?: Docker;
  reporter?: Reporter;
}

/**
 * The tag `load` takes without --tag: the last build's (its record, build-last.json), not config.version: after
 * `build --tag v2`, loading the version's older image would run a stale build. Without a build: version, else latest.
 */
export async function defaultLoadTag(config: GameConfig): Promise<string> {
  const last = await readBuildRecord(await lastBuildToRead(config)).catch(() => undefined);
  return last?.tags[0] ?? config.version ?? 'latest';
}

/** Loads `<tag>` (server) and `<tag>-<tree>` from config.store as `<repo>:<tag>`, `<repo>:<tag>-<tree>`. */
export async function loadBuild(opts: LoadBuildOptions): Promise<LoadedImage[]> {
  const { config } = opts;
  const tag = opts.tag ?? (await defaultLoadTag(config));
  const repo = dockerRepository(config, opts.repository);
  const present = new Set((await layoutTags(config.store).catch(() => [])).map((d) => d.annotations?.[REF_NAME]));
  if (!present.has(tag)) {
    const have = [...present].filter(Boolean).join(', ');
    // No store at all is not "no such tag": nothing was built here yet, or the build went to another folder.
    const noStore = !have && !(await exists(config.store));
    throw new GamelayerError(
      'load.not-found',
      noStore ? `${config.store}: the store does not exist (no image tagged ${tag})` : `${config.store}: no image tagged ${tag}`,
      have ? `tags in the store: ${have}` : noStore ? 'build it first (gamelayer build), or pass --store DIR, the folder the build wrote' : 'build it first: gamelayer build',
    );
  }
  // The server image of a chunked tree holds chunks, not files: `docker run` of it would start an engine without them.
  const recordFile = await buildRecordFile(config, tag);
  const record = recordFile === undefined ? undefined : await readBuildRecord(recordFile).catch(() => undefined);
  const chunked = chunkedTreeNames(record?.manifests ?? []);
  if (chunked.length > 0) throw wholeFilesNeeded(chunked, `gamelayer load (docker run of ${tag})`, 'run it with gamelayer run-local, whose copy containers assemble the files');
  const wanted = [tag, ...(opts.trees === false ? [] : TREE_NAMES.map((t) => `${tag}-${t}`).filter((t) => present.has(t)))];
  return loadImages({
    layout: config.store,
    images: wanted.map((t) => ({ selector: t, repoTags: [`${repo}:${t}`] })),
    docker: opts.docker,
    reporter: opts.reporter,
  });
}
