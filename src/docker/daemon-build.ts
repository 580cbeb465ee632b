// `--builder docker`: builds the emitted Dockerfiles through the Docker daemon (dockerode), with the
// deterministic build context streamed to it, tags `<repo>:<tag>` and `<repo>:<tag>-<tree>`, and optionally
// pushes them with the daemon's own push.
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type Docker from 'dockerode';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { dockerContext } from '../dockerfile/context.js';
import { dockerGame, pickPlatform, type DockerGame } from '../dockerfile/game.js';
import { daemonBaseParents } from './daemon-base.js';
import { SERVER_DOCKERFILE, treeDockerfile } from '../dockerfile/layout.js';
import { parseBaseRef } from '../oci/base-image.js';
import { resolveCredentials } from '../registry/credentials.js';
import { layoutTags, REF_NAME } from '../oci/layout.js';
import { parseReference } from '../registry/reference.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { TREE_NAMES, type TreeManifest, type TreeName } from '../types.js';
import { connectDocker, daemonError, daemonInfo, followStream, streamLines, type DaemonInfo, type DaemonMessage } from './daemon.js';
import { dockerRepository, loadImages } from './load.js';
import { count } from '../report/plural.js';

const TAG = /^[\w][\w.-]{0,127}$/;

export interface DockerBuildOptions {
  config: GameConfig;
  /** Server image tag; tree images get `<tag>-<tree>`. Default config.version, else `latest`. */
  tag?: string;
  /** Docker repository; default config.registry, else the game name. */
  repository?: string;
  /** Push the tags through the daemon afterwards. */
  push?: boolean;
  reporter?: Reporter;
  /** Force the Docker-20.10 Dockerfile variant (no COPY --link); default: from the daemon's version. */
  compat?: boolean;
  platform?: string;
  /**
   * Build with the daemon's BuildKit (API builder version 2) instead of its legacy builder; default: when the
   * Dockerfile is not the compat variant. BuildKit reports progress as binary traces: no per-step log then.
   */
  buildkit?: boolean;
  /** Build the tree (init) images too; default true. */
  trees?: boolean;
  /** Passed to the daemon: build without its cache. */
  noCache?: boolean;
  docker?: Docker;
}

export interface DockerBuiltImage {
  name: 'server' | TreeName;
  ref: string;
  id: string;
  /** Dockerfile steps, and how many of them the daemon took from its cache. */
  steps: number;
  cachedSteps: number;
  /** Each step as the daemon reported it (legacy builder), and whether it came from the cache. */
  stepLog: { instruction: string; cached: boolean }[];
  /** Registry digest when pushed. */
  pushedDigest?: string;
}

export interface DockerBuildResult {
  daemon: { address: string; version: string };
  compat: boolean;
  buildkit: boolean;
  platform: string;
  images: DockerBuiltImage[];
}

/** The tag and platform a docker build takes, checked before the daemon is asked anything (and before any warning). */
export function checkDockerBuildFlags(config: GameConfig, tag: string | undefined, platform: string | undefined): void {
  const t = tag ?? config.version ?? 'latest';
  if (!TAG.test(t) || !TAG.test(`${t}-engine-media`)) {
    throw new GamelayerError('docker.bad-tag', `--tag ${JSON.stringify(t)}: expected letters, digits, "_", "." or "-" (at most 115 characters)`);
  }
  pickPlatform(config, platform);
}

export async function buildWithDocker(opts: DockerBuildOptions): Promise<DockerBuildResult> {
  const reporter = opts.reporter ?? silentReporter;
  const { config } = opts;
  const tag = opts.tag ?? config.version ?? 'latest';
  checkDockerBuildFlags(config, opts.tag, opts.platform);
  const repo = dockerRepository(config, opts.repository);
  const info = await daemonInfo(opts.docker ?? connectDocker());
  const compat = opts.compat ?? info.needsCompat;
  if (!compat && info.needsCompat) {
    reporter.warn(`Docker ${info.version} at ${info.address} predates COPY --link (Docker 23); the build will likely fail: use --docker-compat`);
  }
  const buildkit = opts.buildkit ?? !compat;
  reporter.info(`docker: daemon ${info.version} at ${info.address}, ${buildkit ? 'BuildKit' : 'legacy builder'}, ${compat ? 'compat Dockerfile' : 'COPY --link'}`);
  // A base by reference is read from the daemon's copy (local bases by dockerGame itself), once the trees are scanned.
  const platform = pickPlatform(config, opts.platform);
  const byReference = parseBaseRef(config.baseImage, config.dir).kind === 'registry' ? (manifests: readonly TreeManifest[]) => daemonBaseParents(info, config, platform, manifests) : undefined;
  const game = await dockerGame(config, { platform: opts.platform, reporter, ...(byReference ? { baseParents: byReference } : {}) });
  await ensureBase(game, info, reporter);

  const images: DockerBuiltImage[] = [];
  const targets: ('server' | TreeName)[] = ['server', ...(opts.trees === false ? [] : TREE_NAMES)];
  for (const name of targets) {
    const ref = name === 'server' ? `${repo}:${tag}` : `${repo}:${tag}-${name}`;
    images.push(await buildLosingNoImage(game, info, name, ref, { compat, buildkit, noCache: opts.noCache, reporter }));
  }
  if (opts.push) {
    for (const img of images) img.pushedDigest = await pushImage(info, img.ref, reporter);
  }
  return { daemon: { address: info.address, version: info.version }, compat, buildkit, platform: game.platform, images };
}

/**
 * The legacy builder looks for cached steps among the daemon's images while other clients may remove some (a CI
 * host's cleanup, a parallel job's `docker rmi`); one removed in between fails the build "unable to find image
 * sha256:…" though nothing is wrong with the game. Such a build is run once more; any other failure stands.
 */
async function buildLosingNoImage(...args: Parameters<typeof buildOne>): Promise<DockerBuiltImage> {
  try {
    return await buildOne(...args);
  } catch (e) {
    const lost = e instanceof GamelayerError && e.code === 'docker.daemon' ? LOST_IMAGE.exec(e.message) : null;
    if (!lost) throw e;
    args[4].reporter.warn(`docker ${args[2]}: the daemon lost image ${lost[1]} during the build (another client removed it); building again`);
    return buildOne(...args);
  }
}

const LOST_IMAGE = /unable to find image "?(sha256:[0-9a-f]{64})"?/;

async function buildOne(
  game: DockerGame,
  info: DaemonInfo,
  name: 'server' | TreeName,
  ref: string,
  o: { compat: boolean; buildkit: boolean; noCache?: boolean; reporter: Reporter },
): Promise<DockerBuiltImage> {
  const { reporter } = o;
  const only = name === 'server' ? undefined : [name];
  const context = await dockerContext(game, { compat: o.compat, only });
  const task = reporter.task(`docker ${name}`, context.bytes, 'bytes');
  // Count through a transform: a 'data' listener on the context itself would start it flowing before
  // dockerode pipes it, and the first bytes (the Dockerfiles) would be lost.
  let sent = 0;
  const body = context.stream.pipe(
    new Transform({
      transform(c: Buffer, _e, cb) {
        task.tick(Math.min(c.length, Math.max(0, context.bytes - sent)));
        sent += c.length;
        cb(null, c);
      },
    }),
  );
  context.stream.on('error', (e) => body.destroy(e));
  let out: NodeJS.ReadableStream;
  const what = `build ${ref}`;
  try {
    out = await info.docker.buildImage(body, {
      t: ref,
      dockerfile: name === 'server' ? SERVER_DOCKERFILE : treeDockerfile(name),
      rm: true,
      forcerm: true,
      nocache: o.noCache,
      version: o.buildkit ? '2' : '1',
      platform: game.platform,
    });
  } catch (e) {
    context.stream.destroy();
    body.destroy();
    throw daemonError(e, what, info.address);
  }
  const stepLog: { instruction: string; cached: boolean }[] = [];
  const onMessage = (m: DaemonMessage) => {
    for (const line of streamLines(m)) {
      const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
      if (step) {
        stepLog.push({ instruction: step[1]!, cached: false });
        reporter.info(`docker ${name}: ${line}`);
      } else if (/^ ---> Using cache$/.test(line) && stepLog.length) stepLog[stepLog.length - 1]!.cached = true;
    }
  };
  await followStream(out, onMessage, what, info.address);
  const cachedSteps = stepLog.filter((s) => s.cached).length;
  task.done(`${ref}: ${count(stepLog.length, 'step')}, ${cachedSteps} from cache`);
  let id: string;
  try {
    id = String((await info.docker.getImage(ref).inspect()).Id);
  } catch (e) {
    throw daemonError(e, `inspect ${ref} after building it`, info.address);
  }
  return { name, ref, id, steps: stepLog.length, cachedSteps, stepLog };
}

/** A local base (oci:, docker-archive:) is loaded into the daemon under the name the Dockerfiles use. */
async function ensureBase(game: DockerGame, info: DaemonInfo, reporter: Reporter): Promise<void> {
  const source = game.input.baseSource;
  if (!source) return;
  const image = game.input.baseImage;
  try {
    await info.docker.getImage(image).inspect();
    return; // already there: its name is a hash of the reference
  } catch {
    // not loaded yet
  }
  const ref = parseBaseRef(source, game.config.dir);
  if (ref.kind === 'oci') {
    await loadImages({ layout: ref.dir, images: [{ selector: ref.tag ?? (await onlyTag(ref.dir)), repoTags: [image] }], docker: info.docker, reporter });
    return;
  }
  if (ref.kind === 'docker-archive') {
    let out: NodeJS.ReadableStream;
    try {
      out = await info.docker.loadImage(createReadStream(ref.file), { quiet: true });
    } catch (e) {
      throw daemonError(e, `load the base image ${ref.file}`, info.address);
    }
    const msgs = await followStream(out, () => {}, `load the base image ${ref.file}`, info.address);
    const loaded = msgs.flatMap((m) => streamLines(m)).map((l) => /Loaded image(?: ID)?: (\S+)/.exec(l)?.[1]).filter(Boolean) as string[];
    const pick = ref.ref ? loaded.find((l) => l === ref.ref || l.endsWith(`/${ref.ref}`)) ?? ref.ref : loaded[0];
    if (!pick) throw new GamelayerError('docker.base', `${ref.file}: docker load reported no image`);
    const colon = image.lastIndexOf(':');
    try {
      await info.docker.getImage(pick).tag({ repo: image.slice(0, colon), tag: image.slice(colon + 1) });
    } catch (e) {
      throw daemonError(e, `tag the base image ${pick} as ${image}`, info.address);
    }
    return;
  }
  throw new GamelayerError(
    'docker.base',
    `${game.config.file}: baseImage ${source}: the docker builder takes scratch, an image reference, oci:DIR[:TAG] or docker-archive:FILE`,
    `unpack it first, e.g. \`skopeo copy ${source} oci:base:latest\`, and use oci:base:latest`,
  );
}

async function onlyTag(dir: string): Promise<string> {
  const tags = (await layoutTags(dir)).map((d) => d.annotations?.[REF_NAME]).filter(Boolean) as string[];
  if (tags.length !== 1) {
    throw new GamelayerError('docker.base', `oci:${dir}: ${tags.length ? `several tags (${tags.join(', ')})` : 'no tag'}; name one as oci:${dir}:TAG`);
  }
  return tags[0]!;
}

/** `docker push` through the daemon; credentials from docker's config.json / helpers, as the CLI would use. */
async function pushImage(info: DaemonInfo, ref: string, reporter: Reporter): Promise<string | undefined> {
  const r = parseReference(ref);
  const creds = await resolveCredentials(r.registry).catch(() => undefined);
  const authconfig = creds?.username
    ? { username: creds.username, password: creds.password ?? '', serveraddress: r.registry }
    : creds?.identityToken
      ? { identitytoken: creds.identityToken, serveraddress: r.registry }
      : // Docker 20.10 refuses a push without an X-Registry-Auth header, even to an open registry: send an empty one.
        { serveraddress: r.registry };
  const what = `push ${ref}`;
  let out: NodeJS.ReadableStream;
  try {
    out = await info.docker.getImage(ref).push({ authconfig } as Docker.ImagePushOptions);
  } catch (e) {
    throw daemonError(e, what, info.address);
  }
  let digest: string | undefined;
  const task = reporter.task(`push ${ref}`, 0, 'items');
  await followStream(
    out,
    (m) => {
      if (m.aux?.Digest) digest = m.aux.Digest;
      if (m.status && m.id && /^(Pushed|Layer already exists|Mounted from)/.test(m.status)) reporter.info(`push ${ref}: ${m.id} ${m.status}`);
    },
    what,
    info.address,
  );
  task.done(digest ? `${ref}@${digest}` : ref);
  return digest;
}
