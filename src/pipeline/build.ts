// The daemonless build as steps, each a function of typed inputs to typed outputs in `steps/`:
//   inputs → scan → previous → plan → layers → images → record (then, in the CLI or a script, push: steps/push.ts).
// Each step skips what its inputs say is done already: the scan reads no file the stat cache vouches for, the plan
// keeps the previous build's trees, the layers step reuses every layer whose inputs did not change, and the record is
// not rewritten when nothing changed. This file only composes them; see docs/architecture.md "Build as steps".
import path from 'node:path';
import { HOLDS_FOLDER, holdStoreForBuild } from '../oci/store-holds.js';
import { sweepScanCaches } from '../scan/scan-caches.js';
import { firstMissingFolder, removeEmptyFolders } from '../util/created-folders.js';
import { abortable, stopIfAborted } from '../util/abort.js';
import { assertWritableFolder } from '../util/fs-access.js';
import { OpenFiles } from '../util/open-files.js';
import type { PushTarget } from '../registry/push.js';
import { studioLayers, type StudioLayers } from './studio-layers.js';
import { recordBlobCacheDir } from '../registry/record-blob-cache.js';
import type { TreeScan } from '../scan/scan.js';
import type { BuildRecord } from '../types.js';
import { layerReuse, openLayerCache, seedFromRecord } from './layer-reuse.js';
import { writeImages } from './steps/images.js';
import { resolveInputs, type BuildInputs, type BuildOptions } from './steps/inputs.js';
import { buildLayers } from './steps/layers.js';
import { planPlatforms } from './steps/plan.js';
import { loadBases } from './base-source.js';
import { findPrevious, previousReadAfterScan, type PreviousOutput } from './steps/previous.js';
import type { RerunNote } from '../state/last-run.js';
import type { RegistryPrevious } from './steps/previous-types.js';
import { recordBuild, summarize, type BuildSummary } from './steps/record.js';
import { shareScannedManifests } from './shared-manifests.js';
import { stampPassDifference, stampPassStop } from './stamp-pass-check.js';
import { scanTrees } from './steps/scan.js';

export type { BuildOptions } from './steps/inputs.js';
export type { BuildSummary, LayerOutcome } from './steps/record.js';

export interface BuildResult {
  record: BuildRecord;
  recordFile: string;
  store: string;
  scans: TreeScan[];
  summary: BuildSummary;
  /**
   * The previous build's record blob as this build read and verified it in a registry (a push there need not read it
   * again, nor compress the same record anew), and what the line tag named when asked.
   */
  previousRecordRead?: RegistryPrevious['recordRead'];
  /** The registry target that looked up the previous build, and its repository: a push there goes through it. */
  previousTarget?: { repository: string; target: PushTarget };
  /** A no-op's re-run note (written, or held: BuildOptions.stampPass). */
  rerunNote?: RerunNote;
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  // Before the hold (a file in the store): a state folder or store this user may not write fails clearly, up front.
  const storeDir = path.resolve(opts.out ?? opts.config.store);
  await assertWritableFolder(opts.config.stateDir);
  await assertWritableFolder(storeDir);
  // A store this build creates (a new --store) is removed again if the build fails with nothing stored in it.
  const created = await firstMissingFolder(storeDir);
  // Held for the whole build, so gamelayer gc never removes a blob this build is about to reuse.
  const release = await holdStoreForBuild(storeDir);
  // What this build's steps open for later ones: the stat caches' paged stats, which their saves close, are still
  // open if the build failed between scan and save. This build's only: another build in the process keeps its own.
  const openFiles = new OpenFiles();
  let failed = true;
  const cleanups: (() => void)[] = [];
  try {
    const result = await abortable(opts.signal, 'build', opts.config.file, () => buildHeld(opts, openFiles, cleanups));
    failed = false;
    return result;
  } finally {
    for (const c of cleanups) c();
    openFiles.closeAll();
    await release();
    if (failed && created) await removeEmptyFolders(path.join(storeDir, HOLDS_FOLDER), created);
  }
}

async function buildHeld(opts: BuildOptions, openFiles: OpenFiles, cleanups: (() => void)[]): Promise<BuildResult> {
  const started = Date.now();
  const inputs = await resolveInputs(opts);
  // The previous build is looked up (the registry's record, its kept layers checked there) while the trees are
  // hashed: it needs only the inputs, and on a fresh host both take seconds. Either failing fails the build at once.
  // A chunked tree's scan takes the chunk lists of big files that record knows (a fresh host need not chunk them);
  // a failed lookup fails the build through the second promise, so the scan's copy of it only ends in undefined.
  const scanAbort = new AbortController();
  // The caller's cancel stops the scan too (removed again in build(): a long-lived signal does not keep this one).
  const stopScan = () => scanAbort.abort(opts.signal!.reason);
  opts.signal?.addEventListener('abort', stopScan, { once: true });
  cleanups.push(() => opts.signal?.removeEventListener('abort', stopScan));
  // A previous build read from .gamelayer/ (no registry round trips to overlap) and needed by no chunked tree's scan
  // is read once the scan is done, unless the scan asks first: its parse runs on this thread anyway, and a 1M-entry
  // game's record (70 MiB of packed entries) is then not held beside the walk (docs/architecture.md).
  const deferred = await previousReadAfterScan(inputs);
  let previousP: Promise<PreviousOutput> | undefined;
  const previousNow = (): Promise<PreviousOutput> => {
    if (!previousP) {
      previousP = findPrevious(inputs);
      // A failed lookup fails the build at once (below); the scan is told, so the command ends now, not once the
      // whole game is read for nothing (minutes on a cold host).
      previousP.catch(() => scanAbort.abort());
    }
    return previousP;
  };
  const previousRecord = deferred
    ? undefined
    : previousNow().then(
        (p) => {
          const record = p.record ?? p.remote?.record;
          const label = p.remote ? `the build record of ${p.remote.ref}` : p.info.ref ? `the build record ${p.info.ref}` : undefined;
          return record && { manifests: record.manifests, ...(label ? { label } : {}) };
        },
        () => undefined,
      );
  // The base images are read beside the scan too: a base that is not there (a mistyped tag) fails the build before
  // the whole game is hashed for nothing.
  const basesP = loadBases(inputs.config, { push: inputs.push, registry: inputs.registry }, inputs.platforms);
  basesP.catch(() => scanAbort.abort());
  const cacheP = openLayerCache(inputs.config.stateDir, inputs.reporter);
  // The studio's other games' newest builds (`mountFrom:`), read beside the scan: their layers of these very inputs
  // are taken from their repositories instead of being packed again (studio-layers.ts).
  const studioP = studioLayersOf(inputs);
  // One read per file (docs/architecture.md): with no previous build to diff against and no cached layer to look up,
  // the build packs every file the stat cache misses whatever its hash, so the layer writer hashes it as it packs it.
  // Not with the studio's other games' layers to look up either: they are found by the keys of hashed files.
  const packHashes = async () => {
    try {
      return (await cacheP).empty && (await previousNow()).record === undefined && (await studioP) === undefined;
    } catch {
      return false;
    }
  };
  const scanned = scanTrees({ ...inputs, started, previous: previousRecord, packHashes, openFiles, signal: scanAbort.signal });
  const [{ scans, scanMs }, previous, bases] = await Promise.all([scanned, deferred ? scanned.then(previousNow) : previousNow(), basesP]);
  const cache = await cacheP;
  // An unchanged tree's manifest is held once, the scan's, from here on (the registry's record's was a second store).
  if (previous.record) shareScannedManifests(previous.record, scans.map((s) => s.manifest));
  seedFromRecord(cache, previous.record, inputs.kind, inputs.mtime, inputs.store.dir);
  const reuse = layerReuse({ ...inputs, cache, kept: previous.kept, record: previous.record, studio: await studioP });
  const previousBlob = previous.record && previous.remote ? previous.remote.recordRead.blob : undefined;
  const { plans, baseInRegistry } = await planPlatforms({ ...inputs, scans, previous: previous.record, previousBlob, previousRef: previous.info.ref, reuse, bases });
  // A hidden stamp pass that would build or write: stopped here, before anything is (stamp-pass-check.ts).
  const passDiffers = opts.stampPass && stampPassDifference(plans, opts.stampPass);
  if (passDiffers) throw stampPassStop(passDiffers);
  const chunkSources = new Map(scans.flatMap((s) => (s.chunkSources ? [[s.manifest.digest, s.chunkSources] as const] : [])));
  const pending = scans.flatMap((s) => (s.pending ? [s.pending] : []));
  const { built, inRegistryOnly, studioSources } = await buildLayers({ ...inputs, plans, reuse, chunkSources, pending, signal: opts.signal });
  // Nothing names this build once the caller stopped it: no image tag, no record.
  stopIfAborted(opts.signal, 'build', opts.config.file);
  const images = await writeImages({ ...inputs, plans, baseInRegistry, built, inRegistryOnly, remote: previous.remote, studioSources });
  const recorded = await recordBuild({ ...inputs, plans, images, previous });
  // The scan caches of source paths gone for a week (a checkout whose path changes per build added one a build).
  await sweepScanCaches(inputs.config);
  const summary = summarize({ plans, perPlatform: images.perPlatform, built, studioSources, previous, recorded, scanMs, started });
  return { record: recorded.record, recordFile: recorded.recordFile, store: inputs.store.dir, scans, summary, ...(recorded.rerunNote ? { rerunNote: recorded.rerunNote } : {}), ...(previous.remote ? { previousRecordRead: previous.remote.recordRead, previousTarget: { repository: previous.remote.repository, target: previous.remote.target } } : {}) };
}

/** The studio's other games' layers for a build pushed to one repository whose config lists them (`mountFrom:`). */
function studioLayersOf(i: BuildInputs): Promise<StudioLayers | undefined> {
  const mountFrom = i.config.mountFrom;
  if (!i.push || !mountFrom?.length) return Promise.resolve(undefined);
  const found = studioLayers({ mountFrom, push: i.push, line: i.line, settingsKey: i.settingsKey, registry: i.registry ?? {}, recordCache: recordBlobCacheDir(i.config.stateDir), note: (m) => i.reporter.info(m) });
  return found.catch(() => undefined);
}
