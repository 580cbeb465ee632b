// From gamelayer.yaml to what the Dockerfiles and the build context need: scan, then the same layer plan the
// daemonless build makes for the platform, so docker's layers follow the same boundaries.
import path from 'node:path';
import { treeSourceFor, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { assertBaseLayerRoom } from '../oci/base-room.js';
import { loadBaseImage, type BaseImage } from '../oci/base-image.js';
import { baseMountParents } from '../oci/base-parents.js';
import type { MountParents } from '../plan/mount-parents.js';
import { parsePlatform } from '../oci/image.js';
import { planLayers } from '../plan/plan.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { scanGame } from '../scan/scan.js';
import { TREE_NAMES, type LayerPlan, type TreeManifest, type TreeName } from '../types.js';
import { dockerBaseImage, type DockerfileInput } from './emit.js';
import { startArgv } from '../config/start.js';

export interface DockerGame {
  config: GameConfig;
  platform: string;
  manifests: Record<TreeName, TreeManifest>;
  plan: LayerPlan;
  input: DockerfileInput;
}

export interface DockerGameOptions {
  /** One of config.platforms; default the first. Docker builds one platform at a time. */
  platform?: string;
  reporter?: Reporter;
  /**
   * A base given by reference: its folders above the mounts as the daemon's copy holds them (docker/daemon-base.ts),
   * asked once the trees are scanned: a folder between nested mounts is the outer tree's only where its source holds it.
   */
  baseParents?: (manifests: readonly TreeManifest[]) => Promise<Record<TreeName, MountParents> | undefined>;
}

export function pickPlatform(config: GameConfig, platform?: string): string {
  const p = platform ?? config.platforms[0]!;
  if (!config.platforms.includes(p)) {
    // A flag value, so a usage error (exit 2, error-codes.ts), as build.platform of the daemonless build.
    throw new GamelayerError(
      'docker.platform',
      `--platform ${p}: not in the platforms of ${config.file} (${config.platforms.join(', ')}); expected one of them, written os/arch[/variant] as there`,
      `pass --platform ${config.platforms[0]} (the docker builder builds one platform a run), or add ${p} to platforms: in ${config.file}`,
    );
  }
  return p;
}

/**
 * Layers the base brings, as the daemonless build counts them, and the folders it holds above the mounts with an
 * owner or mode of their own (oci/base-parents.ts); a reference's layer count is unknown here (0), its folders those
 * the daemon build read (`dockerfile` alone: none).
 */
async function localBase(config: GameConfig, base: BaseImage | undefined, mounts: Record<TreeName, string>, manifests: readonly TreeManifest[], byReference?: DockerGameOptions['baseParents']): Promise<{ layers: number; parents?: Record<TreeName, MountParents> }> {
  if (config.baseImage === 'scratch') return { layers: 0 };
  if (!base) {
    const parents = await byReference?.(manifests);
    return { layers: 0, ...(parents ? { parents } : {}) };
  }
  const parents = await baseMountParents(base, mounts, path.join(config.stateDir, 'cache', 'verified-blobs'), manifests);
  return { layers: base.layers.length, parents };
}

/**
 * A local base (oci:, oci-archive:, docker-archive:) of `platform`, read before the scan: its index and config say
 * whether it has that platform, and a base without it failed only after every tree was hashed (minutes on a big game).
 */
async function localBaseImage(config: GameConfig, platform: string): Promise<BaseImage | undefined> {
  if (!/^(oci|oci-archive|docker-archive):/.test(config.baseImage)) return undefined;
  const base = await loadBaseImage(config.baseImage, { baseDir: config.dir, platform: parsePlatform(platform) });
  await assertBaseLayerRoom(config, base.layers.length);
  return base;
}

export async function dockerGame(config: GameConfig, opts: DockerGameOptions = {}): Promise<DockerGame> {
  const platform = pickPlatform(config, opts.platform);
  const localImage = await localBaseImage(config, platform);
  const scanned = await scanGame(config, { reporter: opts.reporter ?? silentReporter, platforms: [platform] });
  const manifests = {} as Record<TreeName, TreeManifest>;
  for (const t of TREE_NAMES) {
    const want = treeSourceFor(config.trees[t], platform).shared ? undefined : platform;
    const s = scanned.trees.find((x) => x.manifest.tree === t && x.manifest.platform === want);
    if (!s) throw new Error(`dockerGame: no scan of ${t}`);
    manifests[t] = s.manifest;
  }
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const local = await localBase(config, localImage, mounts, Object.values(manifests), opts.baseParents);
  const plan = planLayers(
    TREE_NAMES.map((t) => manifests[t]),
    {
      targetSize: config.layers.targetSize,
      maxLayers: config.layers.maxLayers,
      baseLayers: local.layers,
      mounts,
      ...(local.parents ? { parents: local.parents } : {}),
    },
  );
  const base = dockerBaseImage(config.game, config.baseImage);
  const input: DockerfileInput = {
    game: config.game,
    configName: path.basename(config.file),
    platform,
    baseImage: base.image,
    baseSource: base.source,
    start: startArgv(config.start),
    trees: TREE_NAMES.map((t) => ({
      name: t,
      mount: config.trees[t].mount,
      layers: plan.layers.filter((l) => l.tree === t).length,
      archive: manifests[t].source.kind === 'archive',
      ...(local.parents?.[t].size ? { baseParents: true } : {}),
    })),
  };
  return { config, platform, manifests, plan, input };
}
