// Resolves what `gamelayer diff` compares: recorded states (scan or build records) or plain directories.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError, errnoCode } from '../errors.js';
import { diffCacheDir } from './cache-dir.js';
import type { TreeDiff } from './diff.js';
import type { Reporter } from '../report/reporter.js';
import { scanGameChunked } from '../scan/chunk-tree.js';
import { scanTree } from '../scan/scan.js';
import { namedRecordError } from '../state/named-record.js';
import type { BuildRecordSummary } from '../state/record-summary.js';
import { readRecordHeads } from '../state/record-totals.js';
import { rerunPlannedOn } from '../state/last-run.js';
import { lastBuildToRead, LAST_SCAN, latestRecord, readBuildRecord, readRecord, recordsDir } from '../state/records.js';
import type { BuildRecord, TreeManifest } from '../types.js';

export interface DiffSide {
  /** What this side is: a record file, a directory, or "working trees". */
  name: string;
  manifests: TreeManifest[];
  /** Set when this side is a build record: its layers, to tell reused layers from rebuilt ones. */
  build?: Pick<BuildRecord, 'layers' | 'plan' | 'manifests' | 'bases' | 'parents' | 'settingsKey'>;
  /** Set when this side is a directory (scanned as the app tree, so it pairs with a record's or the working trees'). */
  directory?: true;
}

/** A record file, or a directory scanned as one tree (the app tree: against a record or the working trees, their app). */
export async function sideFromArg(arg: string, reporter?: Reporter): Promise<DiffSide> {
  let s;
  try {
    s = await stat(arg);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('diff.arg-missing', `${arg}: no such record file or directory`);
    throw e;
  }
  if (s.isDirectory()) {
    const cache = await diffCacheDir(reporter);
    try {
      const scan = await scanTree('app', path.resolve(arg), { include: ['**'], exclude: [] }, { stateDir: cache.dir, reporter, field: arg, label: arg });
      return { name: arg, manifests: [{ ...scan.manifest, tree: 'app' }], directory: true };
    } finally {
      await cache.dispose();
    }
  }
  const record = await readRecord(arg).catch((e: unknown) => {
    throw namedRecordError(e, arg, 'diff takes record files (.gamelayer/records/*.json: scan-last.json, build-<tag>.json) or directories');
  });
  return { name: arg, manifests: record.manifests, build: record.kind === 'build' ? record : undefined };
}

/** Two directories are no tree of a game: their one row says `dir`, not the `app` each was scanned as. */
export function labelDirectories(diffs: TreeDiff[], before: DiffSide, after: DiffSide): TreeDiff[] {
  return before.directory && after.directory ? diffs.map((d) => ({ ...d, label: 'dir' })) : diffs;
}

export async function workingTrees(config: GameConfig, reporter?: Reporter): Promise<DiffSide> {
  // Chunked trees as a build would see them: their big files as chunks and recipes (docs/chunks.md).
  const scan = await scanGameChunked(config, { reporter, packWarm: true });
  return { name: 'working trees', manifests: scan.trees.map((t) => t.manifest) };
}

function noBaseline(config: GameConfig): GamelayerError {
  // A fresh host (a new clone, a CI host) has no record of its own; the registry's build is the baseline there.
  const against = config.registry ? `; on a fresh host, compare with the pushed build: gamelayer diff --against ${config.registry}` : '; on a fresh host, compare with a pushed build: gamelayer diff --against HOST/REPO';
  return new GamelayerError(
    'diff.no-baseline',
    `no earlier scan or build of ${config.game} in ${config.stateDir}`,
    `run \`gamelayer scan\` (or \`gamelayer build\`) once to record a baseline, then change files and diff${against}`,
  );
}

/** Refuses at once, before the trees are hashed, when there is no record to compare them with. */
export async function assertBaseline(config: GameConfig): Promise<void> {
  for (const file of [await lastBuildToRead(config), path.join(recordsDir(config.stateDir), LAST_SCAN)]) {
    if (await stat(file).then(() => true, () => false)) return;
  }
  throw noBaseline(config);
}

export async function lastRecordedSide(config: GameConfig): Promise<DiffSide> {
  const last = await latestRecord(config);
  if (!last) throw noBaseline(config);
  return { name: last.file, manifests: last.record.manifests, build: last.record.kind === 'build' ? last.record : undefined };
}

/**
 * The registry reference the last run into the config's store was planned on when it made its last build again,
 * unchanged (a no-op: state/last-run.ts); undefined when it was no such run.
 */
export async function lastBuildRerunOn(config: GameConfig): Promise<string | undefined> {
  return rerunPlannedOn(await lastBuildToRead(config));
}

/** What the pull cost reads of a build: its images, and its manifests (their entries only for chunked trees). */
export type PullCostSide = BuildRecordSummary & { manifests: TreeManifest[] };

/**
 * The last local build as `diff --against` computes the pull cost to it, or undefined when nothing was built. The
 * pull cost needs its images and, for a chunked tree, its chunks (entries): a record with no chunked tree is read
 * as its summary and its manifests' heads, not parsed whole beside the registry's record and the scan.
 */
export async function lastBuildForPullCost(config: GameConfig): Promise<PullCostSide | undefined> {
  const file = await lastBuildToRead(config);
  // A regular file only (record-file.ts): a FIFO in its place would block the diff for ever.
  const none = new GamelayerError('record.missing', `${file}: no such record`);
  const read = await readRecordHeads(file, () => none, (heads, summary): PullCostSide | 'whole' =>
    heads.some((h) => h.chunks) ? 'whole' : { ...summary(), manifests: heads.map((h) => ({ ...h, entries: [] })) },
  ).catch((e: unknown) => {
    if (e === none) return undefined;
    throw e;
  });
  return read === 'whole' ? readBuildRecord(file) : read;
}
