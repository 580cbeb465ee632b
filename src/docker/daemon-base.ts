// `build --builder docker` on a base given by reference (`ubuntu:22.04`, `host/repo:tag`, an image only the daemon
// has): its folders above the trees' mounts are read from the daemon's copy (the one the build starts FROM), so the
// emitted Dockerfiles copy a tree under a base folder of its own owner or mode to its mount (dockerfile/emit.ts).
// Known by the image's diff_ids from then on (oci/base-parents.ts's marker): the base is saved from the daemon and
// read only the first time. A base the daemon cannot pull is left to the build, which fails with the daemon's words.
// Asked after the scan, with the trees' manifests: a folder between nested mounts follows the native build's rule
// (the outer tree's where its source holds it, else the base's: plan/mount-parents.ts sourcesMountParents).
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { loadBaseImage, type BaseImage } from '../oci/base-image.js';
import { layersMountParents } from '../oci/base-parents.js';
import type { MountParents } from '../plan/mount-parents.js';
import { TREE_NAMES, type TreeManifest, type TreeName } from '../types.js';
import { sweepStaleTemps, tempTag } from '../util/temp-files.js';
import { followStream, type DaemonInfo } from './daemon.js';

const PLAIN_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export async function daemonBaseParents(info: DaemonInfo, config: GameConfig, platform: string, manifests: readonly TreeManifest[]): Promise<Record<TreeName, MountParents> | undefined> {
  const ref = config.baseImage;
  const image = info.docker.getImage(ref);
  const inspected = (await image.inspect().catch(() => undefined)) ?? (await pulled(info, ref, platform));
  const diffIds = inspected?.RootFS?.Layers;
  if (!diffIds) return undefined;
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const work = path.join(config.stateDir, 'cache', 'docker');
  let temp: string | undefined;
  let saved: Promise<BaseImage> | undefined;
  // `docker save` of the base, once, when a layer must be read: its layer tars hash to the image's diff_ids.
  const save = async (): Promise<BaseImage> => {
    // Named by this process: one a killed build left is swept by the next.
    await mkdir(work, { recursive: true });
    await sweepStaleTemps(work);
    temp = path.join(work, `.base.${tempTag()}`);
    await mkdir(temp);
    const file = path.join(temp, 'base.tar');
    await pipeline(await image.get(), createWriteStream(file));
    return loadBaseImage(`docker-archive:${file}`);
  };
  try {
    return await layersMountParents(
      diffIds.map((digest, i) => ({ digest, mediaType: PLAIN_LAYER, open: async () => layerOf(await (saved ??= save()), i, digest) })),
      mounts,
      path.join(config.stateDir, 'cache', 'verified-blobs'),
      ref,
      manifests,
    );
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

/** Layer `i` of the saved base, which must be the tar of the diff_id the daemon gave it. */
function layerOf(base: BaseImage, i: number, diffId: string) {
  const layer = base.layers[i];
  if (layer?.digest !== diffId) throw new GamelayerError('docker.base', `base image ${base.ref}: docker save gave layer ${i} as ${layer?.digest ?? 'missing'}, the image says ${diffId}`);
  return layer.open();
}

/** The base pulled by the daemon for `platform`, inspected; undefined when the daemon cannot pull it. */
async function pulled(info: DaemonInfo, ref: string, platform: string) {
  try {
    await followStream(await info.docker.pull(ref, { platform }), () => {}, `pull ${ref}`, info.address);
    return await info.docker.getImage(ref).inspect();
  } catch {
    return undefined;
  }
}
