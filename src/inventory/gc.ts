// gamelayer gc: shrinks the local store to the builds worth keeping. Kept: the newest `keep` builds, the builds
// named by `tags`, the last build, and every tag no build record claims (a user's own). Everything a kept build's
// record names (its images, their layers, the layers a next build may keep or patch) is reachable, and so is
// everything the remaining index.json points at; every other blob goes. Dry run unless `apply`.
// With `apply`, the store is held alone (store-holds.ts): no build runs meanwhile.
// Builds whose records are in the (shared) state folder but whose images are not in this store: a record names its
// store (`store`, from this version on). Another store that exists is another config's: its builds are kept, records
// and caches, whatever --keep says. A store that is gone (its folder deleted or moved) leaves orphans: their records
// go with --apply (gc-orphans.ts). A record of an older version names no store: kept, and listed as such.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { lockStoreForGc } from '../oci/store-holds.js';
import { REF_NAME, type OciStore } from '../oci/store.js';
import { readDocumentRefs } from '../oci/document-refs.js';
import type { Descriptor } from '../types.js';
import { clearGcJournal, readGcJournal, writeGcJournal } from './gc-journal.js';
import { pruneLayerCache, readKeptState, staleStateFiles, type KeptState } from './gc-state.js';
import { buildTags } from './inspect.js';
import { isStoreBuild, listLocal, localBuildSummary, openLocalStore, type LocalBuildSummary } from './local.js';
import { removeOrphans, sortElsewhere, type Orphan } from './gc-orphans.js';
import { namesStore } from '../state/record-name.js';

export interface GcOptions {
  config: GameConfig;
  /** How many of the newest builds to keep (default 3; at least 1). */
  keep?: number;
  /** Builds to keep whatever their age (a build's tag or one of its tags). */
  tags?: string[];
  /** Act; without it, only say what would go. */
  apply?: boolean;
}

export interface GcResult {
  store: string;
  applied: boolean;
  keptBuilds: string[];
  /**
   * Builds whose records are in the shared state folder but whose images are not in this store (another config's
   * `store:`, or gone from every store gc can see): their records and caches are left as they are.
   */
  keptElsewhere: string[];
  /**
   * Builds of no store: their record names a store whose folder is gone (deleted or moved). Their records (and that
   * store's last-build pointer) are removed with --apply, listed in a dry run.
   */
  orphans: Orphan[];
  /** Builds not in this store whose records (of an older version) name no store: kept, since gc cannot tell. */
  unknownStore: string[];
  removedBuilds: string[];
  /** Tags taken out of index.json (the removed builds' image tags). */
  removedTags: string[];
  /** Blobs deleted (or that would be). */
  blobs: { digest: string; size: number }[];
  bytesFreed: number;
  /** Bytes of blobs left in the store. */
  bytesKept: number;
  /**
   * Cache files of the state folder gc removes (or would): those about blobs the store no longer holds, and the
   * caches of files, sources and lines no kept build needs (gc-state.ts).
   */
  cacheFiles: number;
  /** Rows of the layer cache whose blob left the store (dropped with --apply; counted in a dry run). */
  layerCacheRows: number;
}

const DEFAULT_KEEP = 3;

export async function gcStore(opts: GcOptions): Promise<GcResult> {
  const keep = opts.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new GamelayerError('cli.keep', `--keep ${opts.keep}: expected a whole number of builds, at least 1`);
  }
  const store = await openLocalStore(opts.config);
  if (!store) return { store: opts.config.store, applied: Boolean(opts.apply), keptBuilds: [], keptElsewhere: [], orphans: [], unknownStore: [], removedBuilds: [], removedTags: [], blobs: [], bytesFreed: 0, bytesKept: 0, cacheFiles: 0, layerCacheRows: 0 };
  const release = opts.apply ? await lockStoreForGc(store.dir) : undefined;
  try {
    return await collect(store, opts, keep);
  } finally {
    await release?.();
  }
}

async function collect(store: OciStore, opts: GcOptions, keep: number): Promise<GcResult> {
  const { tags: rows, builds: recorded } = await listLocal(opts.config);
  // The records folder is the state folder's, which configs with other stores may share: a build is this store's
  // when its images are here (a tag of it listed as its own, as `ls` counts). The others' records, and what their
  // builds need of the caches, are never gc's to remove, nor counted in --keep.
  // So are those a gc of this store killed after it rewrote the index was removing (gc-journal.ts).
  const removing = await readGcJournal(store.dir);
  // A record that names this store is its build too, its images gone or not: --keep counts it, and it goes in turn.
  const namesThis = (b: LocalBuildSummary) => b.record.store !== undefined && namesStore(opts.config, b.record.store);
  // Another store's build of the same tag is not (its record names that store).
  const builds = recorded.filter((b) => (isStoreBuild(opts.config, b) && (rows.some((r) => r.build === b.tag) || removing.has(b.tag))) || namesThis(b));
  const notHere = await sortElsewhere(opts.config.stateDir, recorded.filter((b) => !builds.includes(b)));
  // By record file: localBuild reads the records again, so its objects are never the ones in `builds`.
  const named = new Set<string>();
  for (const t of opts.tags ?? []) named.add((await localBuildSummary(opts.config, t, recorded)).file);
  // A build named by --tag stays, its store gone or not: its record is what the user asked to keep.
  notHere.live.push(...notHere.orphans.filter((o) => named.has(o.build.file)).map((o) => o.build));
  notHere.live.sort((a, b) => recorded.indexOf(a) - recorded.indexOf(b)); // newest first, as recorded
  notHere.orphans = notHere.orphans.filter((o) => !named.has(o.build.file));
  // The other stores' builds and those that name none are kept, with what they need of the caches; orphans are not.
  const elsewhere = [...notHere.live, ...notHere.unknown];
  // This store's last build, when it has one: a store with no pointer (none built into it since it got its own, or
  // the pointer deleted) failed gc with "no build yet" (build-last.json was once every store's, so there was one).
  const last = recorded.length
    ? await localBuildSummary(opts.config, undefined, recorded).catch((e: unknown) => (e instanceof GamelayerError && e.code === 'record.no-build' ? undefined : Promise.reject(e)))
    : undefined;
  const kept = builds.filter((b, i) => i < keep || named.has(b.file) || (last && b.file === last.file) || (last && b.tag === last.tag));
  const removed = builds.filter((b) => !kept.includes(b));
  const removedSet = new Set(removed.map((b) => b.tag));
  const removedTags = rows.filter((r) => r.build !== undefined && removedSet.has(r.build)).map((r) => r.tag);
  // A tag a removed build made but a kept build also names (moved or re-tagged) stays.
  const keptNames = new Set(kept.flatMap((b) => buildTags(b.record).flatMap((t) => [t, ...['engine', 'engine-media', 'app', 'app-media'].map((x) => `${t}-${x}`)])));
  const dropTags = new Set(removedTags.filter((t) => !keptNames.has(t)));

  const index = await store.readIndex();
  const remaining = index.manifests.filter((m) => !dropTags.has(m.annotations?.[REF_NAME] ?? ''));
  const reachable = new Set<string>();
  for (const d of remaining) {
    const name = d.annotations?.[REF_NAME] !== undefined ? `tag ${d.annotations[REF_NAME]}` : `entry ${d.digest}`;
    await walk(store, d, reachable, `${name} of ${store.indexPath}`);
  }
  for (const b of kept) {
    for (const l of b.record.layers) reachable.add(l.digest);
    for (const i of b.record.images) {
      await walk(store, { digest: i.digest, mediaType: i.mediaType, size: 0 }, reachable);
      for (const l of i.layers ?? []) reachable.add(l.digest);
    }
    if (b.record.index) await walk(store, { digest: b.record.index, mediaType: 'application/vnd.oci.image.index.v1+json', size: 0 }, reachable);
  }

  const blobDir = path.join(store.dir, 'blobs', 'sha256');
  const garbage: { digest: string; size: number }[] = [];
  const onDisk = new Set<string>();
  let bytesKept = 0;
  for (const name of (await readdir(blobDir)).sort()) {
    // Only blobs are gc's: a file of another name (a README put there, a temp file of another tool) or a folder is
    // left alone. It was counted as garbage, and `gc --apply` stopped at it half done (`"sha256:README" is not a
    // sha256 digest`), after the index and the records had changed and before the blobs were removed.
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    const st = await stat(path.join(blobDir, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const digest = `sha256:${name}`;
    onDisk.add(digest);
    const size = st.size;
    if (reachable.has(digest)) bytesKept += size;
    else garbage.push({ digest, size });
  }
  const going = new Set(garbage.map((g) => g.digest));
  const stays = (digest: string) => onDisk.has(digest) && !going.has(digest);
  // The caches of the shared state folder keep the entries of blobs another store's builds name (the same layer
  // may be in both stores): that store's next build of them is a no-op still.
  const elsewhereBlobs = recordedBlobs(elsewhere);
  const cacheStays = (digest: string) => stays(digest) || elsewhereBlobs.has(digest);
  // Of each kept record, only what the caches need (its entries parsed only for an archive tree's members).
  const keptStates: KeptState[] = [];
  for (const b of [...kept, ...elsewhere]) keptStates.push(await readKeptState(b.file));
  const stale = await staleStateFiles({ config: opts.config, kept: keptStates, blobStays: cacheStays });
  const layerCacheRows = opts.apply ? 0 : await pruneLayerCache(opts.config.stateDir, cacheStays, false);
  const result: GcResult = {
    store: store.dir,
    applied: Boolean(opts.apply),
    keptBuilds: kept.map((b) => b.tag),
    keptElsewhere: notHere.live.map((b) => b.tag),
    orphans: notHere.orphans.map((o) => o.orphan),
    unknownStore: notHere.unknown.map((b) => b.tag),
    removedBuilds: removed.map((b) => b.tag),
    removedTags: [...dropTags].sort(),
    blobs: garbage,
    bytesFreed: garbage.reduce((s, g) => s + g.size, 0),
    bytesKept,
    cacheFiles: stale.length,
    layerCacheRows,
  };
  if (!opts.apply) return result;
  // Index first (nothing then points at what goes), then the removed builds' records, then the blobs: a gc
  // killed halfway leaves a store that loads, and running it again finishes the job. The records' tags are
  // written down before (gc-journal.ts): untagged, they would otherwise look like another store's builds.
  if (removed.length) await writeGcJournal(store.dir, removed.map((b) => b.tag));
  if (dropTags.size) await store.updateIndex((ix) => ({ ...ix, manifests: ix.manifests.filter((m) => !dropTags.has(m.annotations?.[REF_NAME] ?? '')) }));
  for (const b of removed) await rm(b.file, { force: true });
  await clearGcJournal(store.dir);
  await removeOrphans(opts.config.stateDir, notHere.orphans);
  for (const g of garbage) await rm(store.blobPath(g.digest), { force: true });
  // Last: these only save work (a layer's file list for the SBOM, a blob's verified marker), so a gc killed
  // before this step leaves nothing wrong, only files the next gc removes.
  for (const f of stale) await rm(f, { force: true });
  result.layerCacheRows = await pruneLayerCache(opts.config.stateDir, cacheStays, true);
  return result;
}

/** The blobs the records name: their layers, images (and the layers of each) and index. */
function recordedBlobs(builds: readonly LocalBuildSummary[]): Set<string> {
  const out = new Set<string>();
  for (const { record } of builds) {
    for (const l of record.layers) out.add(l.digest);
    for (const i of record.images) {
      out.add(i.digest);
      for (const l of i.layers ?? []) out.add(l.digest);
    }
    if (record.index) out.add(record.index);
  }
  return out;
}

const JSON_TYPES = /(manifest|index)\.v\d\+json$|manifest\.list\.v2\+json$|distribution\.manifest\.v2\+json$/;

/** Adds `d` and everything it references (index → manifests → config and layers) to `into`. */
async function walk(store: OciStore, d: Descriptor, into: Set<string>, what = `${d.mediaType.includes('index') ? 'index' : 'manifest'} ${d.digest}`): Promise<void> {
  if (into.has(d.digest)) return;
  into.add(d.digest);
  if (!JSON_TYPES.test(d.mediaType) || !(await store.hasBlob(d.digest))) return;
  const doc = await readDocumentRefs(store, d.digest, what);
  for (const m of doc.manifests) await walk(store, m, into);
  if (doc.config) into.add(doc.config.digest);
  for (const l of doc.layers) into.add(l.digest);
}
