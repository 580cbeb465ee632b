// Step inputs: the build's options checked (tag, platforms, writable folders, the store belongs to this game) and
// resolved into the values every later step reads: compression and its compressor, SOURCE_DATE_EPOCH, the layer
// limit, the mounts, and the settings key that says whether an earlier build's layers can be kept at all.
import path from 'node:path';
import type { GameConfig } from '../../config/load.js';
import { GamelayerError } from '../../errors.js';
import { compressorId, type LayerCompression } from '../../oci/layer-kinds.js';
import { assertStoreOfGame } from '../../oci/store-game.js';
import { OciStore } from '../../oci/store.js';
import { sourceDateEpoch } from '../../oci/source-date.js';
import { ECR_MAX_LAYER_BYTES } from '../../plan/plan.js';
import { layerSettingsKey } from '../../plan/settings-key.js';
import type { TargetOptions } from '../../registry/push.js';
import type { PreviousLookup } from './previous-types.js';
import { checkBuildPlatforms, checkBuildTag } from './build-flags.js';
import { silentReporter, type Reporter } from '../../report/reporter.js';
import { TREE_NAMES, type TreeName } from '../../types.js';
import { assertWritableFolder } from '../../util/fs-access.js';

/** What a stamp pass must plan again (pipeline/stamp-pass-check.ts): the input keys of the build's layers (tree markers too) and its bases' digests. */
export interface StampPassOf {
  layers: string[];
  bases: string[];
}

export interface BuildOptions {
  config: GameConfig;
  /** Tag of the server image; tree images get `<tag>-<tree>`. Default: config.version, else `latest`. */
  tag?: string;
  /** Subset of config.platforms to build. */
  platforms?: string[];
  compression?: 'gzip' | 'zstd';
  /** OCI layout directory; default config.store. */
  out?: string;
  reporter?: Reporter;
  /**
   * Stops the build when it fires: the scan stops, no layer starts and the one being written stops at its next chunk
   * (no partial blob is left), no image or record is written after it; the build rejects with `build.aborted`.
   */
  signal?: AbortSignal;
  /** Layers tarred and compressed at once; default 2. */
  concurrency?: number;
  /** Recorded in the BuildRecord when the build runs in AWS CodeBuild. */
  codebuildArn?: string;
  /**
   * The commit and source repository that built it: in the BuildRecord (and its manifest's annotations), not in the
   * images, so a commit that changes nothing of the game makes the same image digests.
   */
  revision?: string;
  sourceUrl?: string;
  /** Extra labels on every image. Keep them stable for the same sources, or every build makes new images. */
  labels?: Record<string, string>;
  /** Ignore the previous build: plan every tree afresh (no patch layers). */
  rebase?: boolean;
  /**
   * The previous build: `host/repo:tag` (that image's record, read from the registry), or `none` (no previous build
   * from the registry; the local one when there is one). Default with `push`: the newest record of `line` in it.
   */
  from?: string;
  /**
   * The repository the images go to. Its newest record of `line` is the previous build (unless `from`), and the
   * layers kept from a registry record must be there: they are never downloaded, and one that is gone is rebuilt.
   */
  push?: string;
  /** The line of work (branch) whose previous build to use; default `default`. */
  line?: string;
  /**
   * The run is the fast path's stamp pass (cli/fast-noop/stamp-pass.ts), which no user asked for: a no-op's re-run
   * note (state/last-run.ts) is not written but returned (BuildResult.rerunNote), so `diff --previous` still compares
   * with the build before, and the last-build pointer is not moved back to this build when another one took it since
   * (a build of another tag that ran meanwhile stays the last). It plans, and stops before anything is built or
   * written unless it plans this build again (pipeline/stamp-pass-check.ts).
   */
  stampPass?: StampPassOf;
  /** Registry options for `from` and `push`. */
  registry?: TargetOptions;
  /**
   * The registry's previous build, already being looked up (startPreviousLookup): used when it was started for
   * exactly this build's from, push, line and registry options, else ignored.
   */
  previousLookup?: PreviousLookup;
}

/** What the later steps read: the options with their defaults applied, checked, and the store opened. */
export interface BuildInputs {
  config: GameConfig;
  reporter: Reporter;
  tag: string;
  platforms: string[];
  kind: 'gzip' | 'zstd';
  compression: LayerCompression;
  /** The compressor with its version and settings: part of a cached layer's key. */
  compressor: string;
  /** SOURCE_DATE_EPOCH: every file's time in the layers. */
  mtime: number;
  store: OciStore;
  /** The registry's limit on a compressed layer (layers.maxLayerSize, default ECR's). */
  layerLimit: number;
  mounts: Record<TreeName, string>;
  /** The layer settings: a previous build made with other settings is not built on. */
  settingsKey: string;
  line: string;
  concurrency: number;
  rebase?: boolean;
  from?: string;
  push?: string;
  stampPass?: StampPassOf;
  registry?: TargetOptions;
  previousLookup?: PreviousLookup;
  labels?: Record<string, string>;
  codebuildArn?: string;
  revision?: string;
  sourceUrl?: string;
}

export async function resolveInputs(opts: BuildOptions): Promise<BuildInputs> {
  const { config } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const tag = opts.tag ?? config.version ?? 'latest';
  checkBuildTag(tag);
  const platforms = opts.platforms ?? config.platforms;
  checkBuildPlatforms(config, platforms);
  const kind = opts.compression ?? config.layers.compression;
  const compression: LayerCompression = { kind };
  const compressor = await compressorId(compression);
  const mtime = sourceDateEpoch();
  // Only build() resolves inputs, under the hold it took on this store once the folder was checked (store-holds.ts).
  const store = await OciStore.open(opts.out ?? config.store, { markers: path.join(config.stateDir, 'cache', 'verified-blobs'), folderChecked: true });
  await assertStoreOfGame(store, config.game, config.file);

  // The registry's limit applies to compressed layers: a file is refused from its size alone only when no
  // compression could bring it under the limit; everything else is measured while it is compressed (scan, plan, layers).
  const layerLimit = config.layers.maxLayerSize ?? ECR_MAX_LAYER_BYTES;
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const settingsKey = layerSettingsKey({ targetSize: config.layers.targetSize, maxLayers: config.layers.maxLayers, mounts, kind, mtime });
  return {
    config,
    reporter,
    tag,
    platforms,
    kind,
    compression,
    compressor,
    mtime,
    store,
    layerLimit,
    mounts,
    settingsKey,
    line: opts.line ?? 'default',
    concurrency: opts.concurrency ?? 2,
    rebase: opts.rebase,
    from: opts.from,
    push: opts.push,
    stampPass: opts.stampPass,
    registry: opts.registry,
    previousLookup: opts.previousLookup,
    labels: opts.labels,
    codebuildArn: opts.codebuildArn,
    revision: opts.revision,
    sourceUrl: opts.sourceUrl,
  };
}
