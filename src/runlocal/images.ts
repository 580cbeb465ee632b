// The tree images the pod pins, in the Docker daemon: loaded from the local store by the digests of the build
// record (so what runs is what the pod spec names, even if a tag in the store moved on), and only when the daemon
// does not already hold them (a reload of a multi-GB game would cost a full stream each run).
import type Docker from 'dockerode';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { daemonError, daemonInfo } from '../docker/daemon.js';
import { daemonPlatform, dockerRepository, loadImages } from '../docker/load.js';
import { resolveSaveImages, type SaveImage } from '../docker/save-format.js';
import type { DeployInput } from '../k8s/input.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { digestOf } from '../util/image-digest.js';

export interface DaemonImages {
  /** Pod image reference (`repo:tag-tree@sha256:…`) → Docker image id. */
  ids: Map<string, string>;
  /** How many images had to be loaded (0: all were in the daemon already). */
  loaded: number;
}

export async function ensureTreeImages(opts: {
  config: GameConfig;
  input: DeployInput;
  docker: Docker;
  reporter?: Reporter;
  /** The pod's image references: only these are loaded (default: the four tree images). */
  podImages?: readonly string[];
}): Promise<DaemonImages> {
  const { config, input, docker } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const info = await daemonInfo(docker);
  const platform = daemonPlatform(info);
  const repo = dockerRepository(config);
  // A pod names an image by `repo@digest` (the default) or `repo:tag-tree@digest`: both forms map to it.
  const candidates: (SaveImage & { podImages: string[] })[] = input.trees.map((t) => ({
    podImages: [t.image, t.digestRef],
    selector: t.imageDigest,
    repoTags: [`${repo}:${input.tag}-${t.tree}`],
  }));
  const serverDigest = input.serverDigestRef && digestOf(input.serverDigestRef);
  if (input.serverImage && input.serverDigestRef && serverDigest) {
    candidates.push({
      podImages: [input.serverImage, input.serverDigestRef],
      selector: serverDigest,
      repoTags: [`${repo}:${input.tag}`],
    });
  }
  const needed = new Set(opts.podImages ?? input.trees.map((t) => t.image));
  const wanted = candidates.filter((c) => c.podImages.some((r) => needed.has(r)));
  const resolved = await resolveSaveImages(config.store, wanted, platform);
  const ids = new Map(wanted.flatMap((w, i) => w.podImages.map((r) => [r, resolved[i]!.image.config.digest] as const)));

  const missing: SaveImage[] = [];
  for (const [i, w] of wanted.entries()) {
    if (!(await hasImage(docker, resolved[i]!.image.config.digest))) missing.push({ selector: w.selector, repoTags: w.repoTags });
  }
  if (missing.length > 0) {
    await loadImages({ layout: config.store, images: missing, docker, reporter });
    for (const [i, w] of wanted.entries()) {
      const id = resolved[i]!.image.config.digest;
      if (!(await hasImage(docker, id))) {
        throw new GamelayerError('run.image-missing', `image ${w.podImages[0]} (id ${id}) is not in the Docker daemon after loading it`);
      }
    }
  } else {
    reporter.info(`images of ${input.tag} already in the Docker daemon`);
  }
  return { ids, loaded: missing.length };
}

async function hasImage(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getImage(id).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw daemonError(e, `inspect image ${id}`);
  }
}
