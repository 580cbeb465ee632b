// Step plan: per platform, the base image and the layer plan of the four trees. A tree the previous build holds
// keeps its layers (whose every layer can still be reused) and gets a patch layer, or is rebased; the rest is planned
// afresh. A layer certain to be over the registry's limit is refused here, before anything is built. The base's
// layers are copied into the store, or, when the base is in the registry the build pushes to, left there; either
// way the base's folders above the mounts are read from them first (oci/base-parents.ts), once per state folder.
import path from 'node:path';
import { treeSourceFor } from '../../config/load.js';
import { GamelayerError } from '../../errors.js';
import type { BaseImage } from '../../oci/base-image.js';
import { baseFoldersKey, baseLayerBlobs, baseNodes, mountFolders } from '../../oci/base-parents.js';
import type { FoldersSeen } from '../../oci/base-folders.js';
import { exists } from '../../util/exists.js';
import { foldersBetweenMounts, nodesFromRecord, parentsFromRecord, parentsKeyText, sourcesMountParents, type BaseNodes, type MountParents } from '../../plan/mount-parents.js';
import { ASSEMBLER_PATH, assemblerBytes } from '../../oci/assembler.js';
import { compressedLowerBound } from '../../oci/layer-kinds.js';
import { sentinelBytes, TREE_SENTINEL } from '../../oci/sentinel.js';
import { planIncremental, recordedTreeProblem, recordedTrees, SERVER_STACK_ORDER, type IncrementalPlan, type PreviousTree } from '../../plan/incremental.js';
import { layerInputKey } from '../../plan/plan.js';
import { formatBytes } from '../../report/reporter.js';
import { hex64, xxhashApi } from '../../scan/hash.js';
import { LARGE_GAME_ENTRIES, type TreeScan } from '../../scan/scan.js';
import { lastBuildFile } from '../../state/records.js';
import { TREE_NAMES, type BuildRecord, type BuiltLayer, type FileEntry, type LayerPlan, type PlannedLayer, type TreeManifest, type TreeName } from '../../types.js';
import { collectOldGarbage } from '../../util/young-garbage.js';
import type { LoadedBases } from '../base-source.js';
import type { LayerReuse } from '../layer-reuse.js';
import { fixpointKey, isFixpoint, noteFixpoints, readFixpoints, recordedPlan, unchangedDecisions } from '../plan-fixpoint.js';
import { gamelayerVersion } from '../../version.js';
import type { BuildInputs } from './inputs.js';

export interface PlatformPlan {
  name: string;
  base: BaseImage;
  manifests: TreeManifest[];
  plan: LayerPlan;
  /** Each tree image's sentinel layer, after the tree's own layers (in a chunked tree, with the native assembler). */
  sentinels: Map<TreeName, PlannedLayer>;
  decisions: IncrementalPlan['decisions'];
  /** Per tree, the base's owner and mode of folders above its mount that are not root 0755 (plan/mount-parents.ts). */
  parents: Record<TreeName, MountParents>;
  /** What `parents` was read for (the base's layers and the folders above the mounts); none on a scratch base. */
  foldersKey?: string;
  /** The base's own folders between nested mounts, for the record (sourcesMountParents); none on a scratch base. */
  between?: MountParents;
}

export type PlanInput = Pick<BuildInputs, 'config' | 'reporter' | 'platforms' | 'store' | 'mounts' | 'kind' | 'layerLimit' | 'from' | 'push' | 'registry' | 'settingsKey'> & {
  scans: TreeScan[];
  /** The previous build's record (see the previous step). */
  previous?: BuildRecord;
  /**
   * The digest of the blob `previous` was read from, its bytes checked against it (a registry's record): planning
   * from it again with the same inputs is then remembered (plan-fixpoint.ts).
   */
  previousBlob?: string;
  /** Where `previous` was read (REPO:TAG of a registry's record, the local record's path), for warnings. */
  previousRef?: string;
  reuse: LayerReuse;
  /** The platforms' base images (read by the caller beside the scan: a missing base fails the build before the trees are read). */
  bases: LoadedBases;
};

export interface PlanOutput {
  plans: PlatformPlan[];
  /** Base layers this build names without holding them: in the target's registry, mounted at push. */
  baseInRegistry: Set<string>;
}

export async function planPlatforms(i: PlanInput): Promise<PlanOutput> {
  const { config, reporter, store, mounts, kind, layerLimit, previous, reuse } = i;
  const findLayer = async (inputKey: string): Promise<BuiltLayer | undefined> => (reuse.kept ? reuse.kept.get(inputKey) : reuse.cached(inputKey));
  // Plan per platform; media trees are shared, so their layers (same inputKey) are built once.
  const plans: PlatformPlan[] = [];
  const baseInRegistry = new Set<string>();
  // A previous record read by digest: the keys of plannings from it that gave back its own plan (a no-op's).
  const fixpoints = previous && i.previousBlob ? await readFixpoints(config.stateDir) : undefined;
  const noted: string[] = [];
  const large = i.scans.reduce((n, s) => n + s.manifest.entries.length, 0) >= LARGE_GAME_ENTRIES;
  // The folders above and at the mounts: the same for every platform, worked out once.
  const paths = mountFolders(Object.values(mounts));
  const nested = foldersBetweenMounts(mounts).length > 0;
  for (const name of i.platforms) {
    const base = i.bases.byPlatform.get(name)!;
    // Before any layer is planned: a mount through a base symlink fails here, and the parents are part of the keys.
    const foldersKey = baseFoldersKey(base, paths);
    const recorded = await nodesRecordedFor(foldersKey, previous, name, store.markerDir, nested);
    // The base's layers in the store first (verified there); a layer downloaded now is walked for the folders at the
    // mounts as it comes in (`seen`), so the folders pass reads only layers the store held already.
    const seen: FoldersSeen | undefined = recorded || !foldersKey ? undefined : { paths, layers: new Map() };
    // A base in the registry pushed to stays there for the push to mount from (baseInRegistry: the layers the store
    // lacked). But when its layers are read for the folders anyway, they are kept while they stream in: a registry
    // that cannot mount (ECR without BLOB_MOUNTING, the common case for an OS base kept beside the game) made the
    // push download each of them a second time to upload it. The push still mounts first; it uploads from the store.
    const lackedBefore = i.bases.sameRegistry ? await lackedBaseLayers(store, base) : undefined;
    if (!i.bases.sameRegistry || seen) await base.copyLayersInto(store, seen);
    const nodes = recorded ?? (await baseNodes(baseLayerBlobs(base, store), paths, store.markerDir, seen, base.ref));
    const manifests = TREE_NAMES.map((t) => manifestFor(i.scans, t, treeSourceFor(config.trees[t], name).shared ? undefined : name));
    const { parents, between } = sourcesMountParents(mounts, nodes, base.ref, manifests);
    let prevTrees = previous ? sameParents(await reusableTrees(previous, name, findLayer), previous, name, parents) : {};
    const key =
      fixpoints && previous && i.previousBlob
        ? fixpointKey({ version: gamelayerVersion(), platform: name, settingsKey: i.settingsKey, targetSize: config.layers.targetSize, maxLayers: config.layers.maxLayers, mounts, baseLayers: base.layers.map((l) => l.digest), manifests, recordBlob: i.previousBlob })
        : undefined;
    let inc: Pick<IncrementalPlan, 'layers' | 'decisions'>;
    if (key && fixpoints!.includes(key) && Object.values(prevTrees).every((p) => !p.unavailable)) {
      // The same inputs gave back this very record's plan before (the same record bytes passed the check below then).
      inc = { layers: recordedPlan(previous!, name), decisions: unchangedDecisions() };
    } else {
      // The record is not trusted: a layer that does not hold what it says would make the image differ from the sources.
      const damaged = (Object.entries(prevTrees) as [TreeName, PreviousTree][]).filter(([, p]) => !p.unavailable).map(([t, p]) => recordedTreeProblem(t, p, mounts[t], parents[t])).find(Boolean);
      if (damaged) {
        reporter.warn(`the previous build record (${i.previousRef ?? i.from ?? lastBuildFile({ stateDir: config.stateDir, store: i.store.dir })}) is damaged: ${damaged}; planning every tree afresh`);
        prevTrees = {};
      }
      inc = planIncremental(manifests, prevTrees, {
        targetSize: config.layers.targetSize,
        maxLayers: config.layers.maxLayers,
        baseLayers: base.layers.length,
        mounts,
        parents,
        freshOrder: SERVER_STACK_ORDER,
        ...(large ? { betweenSteps: collectOldGarbage } : {}),
      });
      if (key && !damaged && isFixpoint(inc.layers, inc.decisions, previous!, name)) noted.push(key);
    }
    const plan: LayerPlan = { layers: inc.layers.map((l) => ({ ...l, platform: name })) };
    const tooBig = plan.layers.find((l) => compressedLowerBound(l.bytes, kind) > layerLimit);
    if (tooBig) throw layerTooBig(tooBig, layerLimit);
    for (const d of lackedBefore ?? []) baseInRegistry.add(d);
    // Read (and checked) only for a build with a chunked tree: no other image carries it.
    const helper = manifests.some((m) => m.chunks) ? assemblerBytes(name) : undefined;
    const helperEntry = helper && (await assemblerEntry(await helper));
    const sentinels = new Map(
      manifests.map(
        (m) => [m.tree, sentinelLayer(m, mounts[m.tree], plan.layers.filter((l) => l.tree === m.tree).length, m.chunks ? helperEntry : undefined, parents[m.tree])] as const,
      ),
    );
    plans.push({ name, base, manifests, plan, sentinels, decisions: inc.decisions, parents, ...(foldersKey ? { foldersKey, ...(between ? { between } : {}) } : {}) });
  }
  // What planning 1M entries left behind (cut groups, copies with folders added, key text) goes before the layers.
  if (large) collectOldGarbage();
  if (fixpoints && noted.length) await noteFixpoints(config.stateDir, fixpoints, noted);
  return { plans, baseInRegistry };
}

/** The previous build's trees for one platform whose every layer is still in the store. */
async function reusableTrees(
  record: BuildRecord,
  platform: string,
  find: (inputKey: string) => Promise<BuiltLayer | undefined>,
): Promise<Partial<Record<TreeName, PreviousTree>>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const [tree, prev] of Object.entries(recordedTrees(record, platform)) as [TreeName, PreviousTree][]) {
    let all = true;
    for (const l of prev.layers) if (!(await find(l.inputKey))) all = false;
    // A tree whose layers are gone is planned afresh where it was in the stack, not on top (which would move it).
    out[tree] = all ? prev : { ...prev, unavailable: 'its recorded layers are gone or damaged' };
  }
  return out;
}

/**
 * The base's folders the previous record kept for this very base and these mounts (`baseFolders`), when this host has
 * not read them itself: a fresh host whose base stays in the registry it pushes to would otherwise stream the base's
 * layers in every build. The record is trusted as far as its other fields are (its blob checked by digest); a host
 * that has read the base (its marker) goes by what it read.
 */
async function nodesRecordedFor(key: string | undefined, previous: BuildRecord | undefined, platform: string, markerDir: string | undefined, nested: boolean): Promise<BaseNodes | undefined> {
  if (key === undefined || previous?.baseFolders?.[platform] !== key) return undefined;
  if (markerDir && (await exists(path.join(markerDir, key)))) return undefined;
  return nodesFromRecord(previous, platform, nested);
}

/** A recorded tree whose layers were made with other folders above its mount than this base's: planned afresh. */
function sameParents(trees: Partial<Record<TreeName, PreviousTree>>, record: BuildRecord, platform: string, parents: Record<TreeName, MountParents>): Partial<Record<TreeName, PreviousTree>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const [tree, prev] of Object.entries(trees) as [TreeName, PreviousTree][]) {
    const same = parentsKeyText(parentsFromRecord(record.parents, platform, tree)) === parentsKeyText(parents[tree]);
    out[tree] = same || prev.unavailable ? prev : { ...prev, unavailable: 'the base image holds the folders above its mount with another owner or mode than its layers were made with' };
  }
  return out;
}

function manifestFor(scans: TreeScan[], tree: TreeName, platform: string | undefined): TreeManifest {
  const s = scans.find((x) => x.manifest.tree === tree && x.manifest.platform === platform);
  if (!s) throw new Error(`no scan of ${tree}${platform ? ` for ${platform}` : ''}`);
  return s.manifest;
}

/**
 * The layer `<mount>/.gamelayer-tree` naming the tree and its digest; a chunked tree's also holds the native assembler
 * of the platform (`.gamelayer-chunks/assemble`, mode 755), which its init copy runs (docs/chunks.md).
 */
export function sentinelLayer(m: TreeManifest, mount: string, index: number, helper?: FileEntry, parents?: MountParents): PlannedLayer {
  const bytes = sentinelBytes(m);
  // The xxh64 is informational here (the layers step serves the bytes itself); the digest inside makes the key unique.
  const entries: FileEntry[] = [{ path: TREE_SENTINEL, type: 'file' as const, mode: 0o644, size: bytes.length, xxh64: m.digest.slice(7, 23) }];
  // Sorted bytewise like every layer's entries: `.gamelayer-chunks/…` before `.gamelayer-tree`.
  if (helper) entries.unshift(helper);
  return { tree: m.tree, index, entries, inputKey: layerInputKey(mount, entries, parents), bytes: entries.reduce((n, e) => n + e.size, 0) };
}

async function assemblerEntry(bytes: Buffer): Promise<FileEntry> {
  return { path: ASSEMBLER_PATH, type: 'file', mode: 0o755, size: bytes.length, xxh64: hex64((await xxhashApi()).h64Raw(bytes)) };
}

/** A layer over the registry's limit once compressed (or certain to be, from its size): named with its biggest file. */
export function layerTooBig(l: PlannedLayer, limit: number): GamelayerError {
  const biggest = l.entries.reduce((a, e) => (e.size > a.size ? e : a), l.entries[0]!);
  return new GamelayerError(
    'build.layer-too-big',
    `${l.tree} layer ${l.index} holds ${formatBytes(l.bytes)}, over the registry layer limit of ${formatBytes(limit)} (layers.maxLayerSize)`,
    `the biggest file in it is ${biggest.path}; split such files before packaging, ` + 'or raise layers.maxLayerSize if your registry takes bigger layers',
  );
}

/** The digests of `base`'s layers the store does not hold. */
async function lackedBaseLayers(store: Pick<BuildInputs['store'], 'hasBlob'>, base: { layers: readonly { digest: string; size: number }[] }): Promise<string[]> {
  const lacked: string[] = [];
  for (const l of base.layers) if (!(await store.hasBlob(l.digest, l.size))) lacked.push(l.digest);
  return lacked;
}
