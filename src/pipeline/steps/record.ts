// Step record: the BuildRecord of this build (what the next build diffs against, what push sends beside the server
// image) written to `.gamelayer/records/` as `build-<tag>.json` and the last build; and the summary the CLI prints.
// A build that changed nothing has the previous record, byte for byte (its `previous` too: what that content was
// planned on), and writes none; it is the last build all the same (the pointer made its record's copy when it names
// another) and notes beside it that this run made it again (state/last-run.ts).
import { recordedParents } from '../../plan/mount-parents.js';
import path from 'node:path';
import { lastBuildFile, localRecord } from '../../state/records.js';
import { dropLegacyRecord, moveOtherStoresRecord, storeRecordFile } from '../../state/record-name.js';
import { putStoreFirst } from '../../state/record-layout.js';
import { pointLastBuildAt, recordLastBuild } from '../../state/last-build-point.js';
import { rerunNote, type RerunNote } from '../../state/last-run.js';
import { stampPassStop } from '../stamp-pass-check.js';
import { isPlatformBuild } from './build-flags.js';
import type { TreeDecision } from '../../plan/incremental.js';
import { SERVER_IMAGE, TREE_NAMES, type BuildRecord, type BuiltLayer, type TreeManifest, type TreeName } from '../../types.js';
import { exists } from '../../util/exists.js';
import { totalsOf } from '../../entries/packed-list.js';
import { baseMoveText, movedBases, type BaseMove } from '../base-source.js';
import { changedWholeFiles, type WholeFile } from '../whole-files.js';
import { recordImages, topLevel, type ImagesOutput } from './images.js';
import type { BuildInputs } from './inputs.js';
import type { LayersOutput, StudioSource } from './layers.js';
import type { PlatformPlan } from './plan.js';
import type { PreviousInfo, PreviousOutput } from './previous.js';

export interface LayerOutcome {
  layer: BuiltLayer;
  platform: string;
  patch: boolean;
  files: number;
  bytes: number;
  reused: boolean;
  /** Reused from the registry's previous build, whose repository holds it (not in the store). */
  inRegistry: boolean;
}

export interface BuildSummary {
  layers: LayerOutcome[];
  /** Per platform and tree: kept as it was, patched, rebased or planned fresh, and why. */
  trees: { platform: string; tree: TreeName; decision: TreeDecision; reason?: string }[];
  built: number;
  reused: number;
  /** Where the previous build came from (`registry`: a record read from the repository, `local`: .gamelayer/). */
  previous: PreviousInfo;
  /** Registry base images whose digest moved since the previous build: new images on the same layers of ours. */
  baseMoved?: BaseMove[];
  /** Kept layers found in the registry (never downloaded), and record layers gone from it (their trees rebuilt). */
  remoteLayers?: { kept: number; gone: number };
  /**
   * Layers and tree markers of this build taken from the studio's other games' repositories (`mountFrom:`: the same
   * inputs), per repository: neither packed nor downloaded. Absent when none was.
   */
  studioLayers?: StudioSource[];
  /** Big files of trees that are not chunked, changed since the previous build and so sent whole again. */
  wholeFiles?: WholeFile[];
  /** Compressed bytes written this build, and compressed bytes of every layer of the images. */
  bytesNew: number;
  bytesTotal: number;
  scanMs: number;
  ms: number;
}

export type RecordInput = Pick<BuildInputs, 'config' | 'reporter' | 'tag' | 'platforms' | 'settingsKey' | 'line' | 'push' | 'stampPass' | 'codebuildArn' | 'revision' | 'sourceUrl'> &
  Partial<Pick<BuildInputs, 'store'>> & {
  plans: PlatformPlan[];
  images: ImagesOutput;
  previous: PreviousOutput;
};

export interface RecordOutput {
  record: BuildRecord;
  recordFile: string;
  /** Every layer of the images, once. */
  layers: BuiltLayer[];
  baseMoved: BaseMove[];
  /** The re-run note this no-op wrote (or, held, would have written): its file and text. */
  rerunNote?: RerunNote;
}

export async function recordBuild(i: RecordInput): Promise<RecordOutput> {
  const { config, reporter, tag, plans } = i;
  const { images, perPlatform, tags } = i.images;
  const previous = i.previous.record;
  const storeDir = i.store?.dir ?? config.store;
  const manifests = uniqueManifests(plans.flatMap((p) => p.manifests));
  const allLayers = uniqueLayers(perPlatform.flatMap((p) => [...p.layers, ...Object.values(p.sentinels)]));
  const record: BuildRecord = {
    schemaVersion: 1,
    game: config.game,
    version: config.version,
    createdAt: new Date().toISOString(),
    tags,
    platforms: i.platforms,
    manifests,
    plan: { layers: plans.flatMap((p) => p.plan.layers) },
    layers: allLayers,
    images: recordImages(images),
    index: plans.length > 1 ? topLevel(images, SERVER_IMAGE).digest : undefined,
    codebuildArn: i.codebuildArn,
    revision: i.revision,
    sourceUrl: i.sourceUrl,
    settingsKey: i.settingsKey,
    ...recordedParents(plans),
    ...(plans.some((p) => p.foldersKey) ? { baseFolders: Object.fromEntries(plans.filter((p) => p.foldersKey).map((p) => [p.name, p.foldersKey!])) } : {}),
    ...(plans.some((p) => p.base.pinned)
      ? { bases: plans.map((p) => ({ platform: p.name, ref: config.baseImage, digest: p.base.pinned!.digest, repository: p.base.pinned!.repository, layers: p.base.layers.length })) }
      : {}),
    // A pushed build moves its line's tag to its record, whatever it was planned on (--from none too); one platform's
    // build of several moves none, and its record names none, as the record it pushes (docs/codebuild.md).
    ...(i.push && !isPlatformBuild(config, { tags, platforms: i.platforms }) ? { line: i.line } : {}),
    ...(i.previous.info.source === 'registry'
      ? { previous: { ref: i.previous.info.ref!, createdAt: i.previous.info.createdAt!, ...(i.previous.remote ? { blob: i.previous.remote.recordRead.blob, tag: i.previous.remote.record.tags[0] } : {}) } }
      : {}),
  };
  const moved = movedBases(previous, record);
  for (const m of moved) {
    const what = m.fromRef === undefined ? `base image ${m.ref} (${m.platform}) moved since the previous build: ${m.from} → ${m.to}` : `${baseMoveText(m)} since the previous build`;
    reporter.warn(`${what}; every image gets the new base, no layer of ours is rebuilt`);
  }
  // A build that changed nothing has the same record, byte for byte: nothing new to push beside the image,
  // and nothing to write (records of a 100k-file game are tens of MB).
  const unchanged = previous !== undefined && sameBuild(previous, record);
  if (unchanged && previous) {
    // Where and when this content was first built stays as it was: the same commit built again by another
    // CodeBuild run (a nightly build, a retry) on a fresh host pushes nothing and moves no tag.
    record.createdAt = previous.createdAt;
    if (previous.previous) record.previous = previous.previous;
    else delete record.previous;
    if (previous.codebuildArn !== undefined) record.codebuildArn = previous.codebuildArn;
    else delete record.codebuildArn;
    // The commit that first built it too: a commit that changed nothing of the game rewrites no record.
    for (const k of ['revision', 'sourceUrl'] as const) {
      if (previous[k] !== undefined) record[k] = previous[k];
      else delete record[k];
    }
  }
  // This store's record of the tag (record-name.ts): another config's store keeps its own of the same tag.
  const of = { stateDir: config.stateDir, store: storeDir };
  const recordFile = storeRecordFile(of, tag);
  await moveOtherStoresRecord(of, recordFile);
  // The last build of this store (state/last-build.ts): another config's store beside it keeps its own.
  const last = lastBuildFile(of);
  const local = localRecord(record, of);
  // The run was planned on the build it made again, in a registry (state/last-run.ts): said beside the pointer, with
  // where it was read (not by a stamp pass: its stamp carries the note). A build that changed something drops it.
  const note = unchanged && i.previous.info.source === 'registry' ? rerunNote(last, record, i.previous.info.ref!) : undefined;
  const kept = note && !i.stampPass ? note : 'keep';
  if (!unchanged || !(await exists(recordFile))) {
    // A stamp pass writes no record and moves no pointer (stamp-pass-check.ts stops one whose plan differs; its
    // record gone meanwhile, a gc's doing, is the same: not a no-op of the build).
    if (i.stampPass) throw stampPassStop(unchanged ? 'its record is gone' : 'its record would change');
    await recordLastBuild(config.stateDir, { file: recordFile, record: local }, last, unchanged ? kept : 'drop');
  } else {
    // Left as they are, but a record of stop 47's layout (its store last) was read whole to tell whose it is
    // (moveOtherStoresRecord; the pointer, as the previous build) and would be by every build after: rewritten
    // once with its store first, its content the same (its pushes too, which `local` lacks). Best effort.
    await putStoreFirst(config.stateDir, recordFile);
    // This build is the last one, though it wrote nothing: a pointer naming another (a build of another tag since)
    // or none (an older version's build-last.json was every store's) is made its record's copy (last-build-point.ts).
    // Not by a stamp pass (inputs.ts): the stamp then says the pointer names another build, and none is written.
    if (i.stampPass || !(await pointLastBuildAt(config.stateDir, last, recordFile, kept))) await putStoreFirst(config.stateDir, last);
  }
  await dropLegacyRecord(of, tag);
  return { record, recordFile, layers: allLayers, baseMoved: moved, ...(note ? { rerunNote: note } : {}) };
}

export interface SummaryInput {
  plans: PlatformPlan[];
  perPlatform: ImagesOutput['perPlatform'];
  built: LayersOutput['built'];
  studioSources?: LayersOutput['studioSources'];
  previous: PreviousOutput;
  recorded: RecordOutput;
  scanMs: number;
  /** When the build started (Date.now()). */
  started: number;
}

/** What the build did, per layer and tree, for the CLI's table and `--json`. */
export function summarize(i: SummaryInput): BuildSummary {
  const { plans, perPlatform, built } = i;
  const remoteKept = i.previous.kept;
  const outcomes: LayerOutcome[] = perPlatform.flatMap((p) =>
    p.layers.map((l) => {
      const planned = plans.find((x) => x.name === p.platformName)!.plan.layers.find((x) => x.inputKey === l.inputKey)!;
      return { layer: l, platform: p.platformName, patch: !!planned.patch, files: totalsOf(planned.entries).files, bytes: planned.bytes, reused: built.get(l.inputKey)!.reused, inRegistry: !!remoteKept?.has(l.inputKey) && built.get(l.inputKey)!.reused };
    }),
  );
  const newLayers = [...built.values()].filter((b) => !b.reused);
  const moved = i.recorded.baseMoved;
  // Per platform the layers built now; a media file shared by the platforms is named once.
  const wholeFiles = plans.flatMap((p) => changedWholeFiles(p.plan.layers.filter((l) => built.get(l.inputKey)?.reused === false), p.manifests, i.previous.record, p.name));
  const uniqueWhole = [...new Map(wholeFiles.map((w) => [`${w.tree}\0${w.path}`, w])).values()];
  return {
    layers: outcomes,
    trees: plans.flatMap((p) => TREE_NAMES.map((tree) => ({ platform: p.name, tree, ...p.decisions[tree] }))),
    previous: i.previous.info,
    ...(moved.length ? { baseMoved: moved } : {}),
    ...(i.studioSources?.length ? { studioLayers: i.studioSources } : {}),
    ...(uniqueWhole.length ? { wholeFiles: uniqueWhole } : {}),
    ...(remoteKept ? { remoteLayers: { kept: [...built.values()].filter((b) => remoteKept.has(b.layer.inputKey) && b.reused).length, gone: i.previous.remote!.gone.length } } : {}),
    built: newLayers.length,
    reused: built.size - newLayers.length,
    bytesNew: newLayers.reduce((n, b) => n + b.layer.size, 0),
    bytesTotal: i.recorded.layers.reduce((n, l) => n + l.size, 0),
    scanMs: i.scanMs,
    ms: Date.now() - i.started,
  };
}

/** The same build: the same tags and content. Where it ran (CodeBuild build, checkout folder) is not part of it. */
function sameBuild(a: BuildRecord, b: BuildRecord): boolean {
  const key = (r: BuildRecord) => JSON.stringify([r.tags, r.images, r.layers, r.manifests.map((m) => m.digest), r.version]);
  return key(a) === key(b);
}

function uniqueManifests(ms: TreeManifest[]): TreeManifest[] {
  const seen = new Map<string, TreeManifest>();
  for (const m of ms) seen.set(`${m.tree}|${m.platform ?? ''}`, m);
  return [...seen.values()];
}

function uniqueLayers(ls: BuiltLayer[]): BuiltLayer[] {
  const seen = new Map<string, BuiltLayer>();
  for (const l of ls) if (!seen.has(l.digest)) seen.set(l.digest, l);
  return [...seen.values()];
}
