// What gc removes from the state folder beside the store's blobs: the caches whose entries would otherwise pile up
// with every build a host ever ran (bench/README.md, "Long run"). Each of them only saves work, so a file removed
// here that a later build wanted costs that build some hashing or chunking, never a wrong layer: every cache is
// checked against the content it describes before it is used.
//
// Kept, per cache:
// - verified-blob markers and SBOM file lists (`cache/verified-blobs/<hex>`, `cache/layer-files/sha256-<hex>.json`):
//   those of blobs the store still holds after gc (a base's folders above the mounts, `parents-<hex>`: all its layers);
// - the layer cache (`cache/layers.json`): rows whose blob the store still holds;
// - chunk lists (`cache/recipes/<xxh64>-<size>-<avg>.json`): those of files a kept build's record names, and any
//   written since the newest kept build (a scan since: the next build's changed files);
// - stat and archive-entry caches (`cache/stat/<id>.json`, `cache/archive/<id>.json`, one per source path): those
//   of the config's sources, and of others the newest 16 written in the last day (state/scan-caches.ts; a build
//   keeps a week's);
// - archive member copies (`cache/archive-content/<xxh64>`): files of the archive trees of the kept builds, and
//   any written since the newest kept build;
// - docker contexts' re-packed archives (`cache/docker/<tree>-<hash>.tar`): the newest per tree;
// - copies of a line's record (`cache/line-records/*.copy`, one per repository and line): those written in the last
//   30 days (a line idle longer reads its record from the registry again), and the newest; likewise the proofs
//   that a record's diffIDs agree with its images (`cache/line-records/proven-<hex>`).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { baseParentsMarkerLayers } from '../oci/base-parents.js';
import { LayerCache } from '../oci/layer-cache.js';
import { lineCopyDir } from '../registry/line-copy.js';
import { cacheFile as recipeCacheFile } from '../scan/chunk-tree.js';
import { staleScanCaches } from '../scan/scan-caches.js';
import type { ManifestHead } from '../state/record-summary.js';
import { noSuchRecord } from '../state/record-file.js';
import { readRecordHeads } from '../state/record-totals.js';
import { readBuildRecord } from '../state/records.js';
import type { BuildRecord } from '../types.js';
import { filesByAge } from '../util/files-by-age.js';

const DAY_MS = 86_400_000;
/** A cache file written this recently may belong to work since the last build: gc leaves it. */
export const YOUNG_MS = DAY_MS;
/** A line's record copy not written for this long goes (its line has had no new build on this host). */
export const LINE_COPY_MS = 30 * DAY_MS;
/** File times against a record's time (both this host's clock; file times may be coarser). */
const CLOCK_SLACK_MS = 2_000;

export interface StateKeep {
  config: GameConfig;
  /** What the builds gc keeps need of the state folder (`keptState` of each record). */
  kept: readonly KeptState[];
  /** Whether the store holds this blob after gc. */
  blobStays: (digest: string) => boolean;
  now?: number;
}

/**
 * What a kept build needs of the state folder's caches: its chunk lists and archive members, by name. gc reads each
 * kept record in turn and holds only this, not every kept build's entries at once.
 */
export interface KeptState {
  createdAt: string;
  /** File names in `cache/recipes/` of its chunked trees' big files. */
  recipes: ReadonlySet<string>;
  /** xxh64 of the files of its archive trees (`cache/archive-content/<xxh64>`). */
  archiveMembers: ReadonlySet<string>;
}

export function keptState(r: BuildRecord): KeptState {
  const archiveMembers = new Set<string>();
  for (const m of r.manifests) {
    if (m.source.kind === 'archive') for (const e of m.entries) if (e.type === 'file' && e.xxh64) archiveMembers.add(e.xxh64);
  }
  return { createdAt: r.createdAt, recipes: recipeNames(r.manifests), archiveMembers };
}

/**
 * `keptState` of the record in `file`, its entries parsed only when a tree is an archive (whose members it names):
 * the chunk lists are in the manifests' heads.
 */
export async function readKeptState(file: string): Promise<KeptState> {
  // A regular file only, read up to its size when opened (a FIFO in the records folder would block gc for ever).
  // A large record's skeleton read a MiB at a time, not its bytes held (record-totals.ts).
  const state = await readRecordHeads(file, noSuchRecord, (heads, summary): KeptState | 'whole' =>
    heads.some((h) => h.source.kind === 'archive') ? 'whole' : { createdAt: summary().createdAt, recipes: recipeNames(heads), archiveMembers: new Set() },
  );
  return state === 'whole' ? keptState(await readBuildRecord(file)) : state;
}

function recipeNames(manifests: readonly ManifestHead[]): Set<string> {
  const out = new Set<string>();
  for (const m of manifests) {
    if (m.chunks) for (const x of m.recipes ?? []) out.add(path.basename(recipeCacheFile('', x.size, x.xxh64, m.chunks.avgChunkSize)));
  }
  return out;
}

/** The state folder's cache files gc removes (sorted), as described at the top of this file. */
export async function staleStateFiles(k: StateKeep): Promise<string[]> {
  const cache = path.join(k.config.stateDir, 'cache');
  const now = k.now ?? Date.now();
  const young = async (file: string, ms = YOUNG_MS) => now - ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) < ms;
  // Written since the newest kept build (with no kept build: in the last day). Not a span of time: a host that
  // builds many times a day would otherwise keep a day of every file's versions.
  const newest = Math.max(...k.kept.map((r) => Date.parse(r.createdAt)).filter(Number.isFinite));
  const since = Number.isFinite(newest) ? newest - CLOCK_SLACK_MS : now - YOUNG_MS;
  const sinceNewest = async (file: string) => ((await stat(file).catch(() => undefined))?.mtimeMs ?? 0) >= since;
  const out: string[] = [];
  const sweep = async (dir: string, goes: (name: string, file: string) => boolean | Promise<boolean>) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name);
      if (await goes(name, file)) out.push(file);
    }
  };

  await sweep(path.join(cache, 'layer-files'), (name) => {
    const m = /^sha256-([0-9a-f]{64})\.json$/.exec(name);
    return m !== null && !k.blobStays(`sha256:${m[1]}`);
  });
  await sweep(path.join(cache, 'verified-blobs'), async (name, file) => {
    // The base's folders above the mounts, read from several base layers (base-parents.ts): goes with any of them.
    if (/^parents-[0-9a-f]{64}$/.test(name)) return (await baseParentsMarkerLayers(file))?.every((d) => k.blobStays(d)) !== true;
    // A blob's verified marker, or the diff_id proven of a base layer's tar (base-diffid.ts).
    const m = /^(?:diffid-)?([0-9a-f]{64})$/.exec(name);
    return m !== null && !k.blobStays(`sha256:${m[1]}`);
  });

  const recipes = new Set(k.kept.flatMap((r) => [...r.recipes]));
  await sweep(path.join(cache, 'recipes'), async (name, file) => name.endsWith('.json') && !recipes.has(name) && !(await sinceNewest(file)));

  out.push(...(await staleScanCaches(k.config, YOUNG_MS, now)));

  const members = new Set(k.kept.flatMap((r) => [...r.archiveMembers]));
  await sweep(path.join(cache, 'archive-content'), async (name, file) => /^[0-9a-f]{16}$/.test(name) && !members.has(name) && !(await sinceNewest(file)));

  out.push(...(await allButNewest(path.join(cache, 'docker'), (name) => /^(.+)-[0-9a-f]{32}\.tar$/.exec(name)?.[1])));
  const copies = lineCopyDir(k.config.stateDir);
  // The line copies, and the proofs of records' diffIDs (registry/record-proof.ts, one per record read or pushed)
  // beside them: of each kind all but the newest, once idle for LINE_COPY_MS. One listing of the folder for both.
  const kindOf = (name: string) => (name.endsWith('.copy') ? 'line' : /^proven-[0-9a-f]{64}$/.test(name) ? 'proof' : undefined);
  const older = new Set(await allButNewest(copies, kindOf));
  await sweep(copies, async (_name, file) => older.has(file) && !(await young(file, LINE_COPY_MS)));
  return out.sort();
}

/** Files of `dir` grouped by `group(name)` (undefined: not considered), all but the newest (by mtime) of each group. */
async function allButNewest(dir: string, group: (name: string) => string | undefined): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of await filesByAge(dir, (name) => group(name) !== undefined)) {
    const g = group(f.name)!;
    if (seen.has(g)) out.push(f.file);
    else seen.add(g);
  }
  return out;
}

/**
 * The layer cache's rows of blobs the store will not hold: dropped (the file rewritten) when `apply`, else only
 * counted. Returns how many.
 */
export async function pruneLayerCache(stateDir: string, blobStays: (digest: string) => boolean, apply: boolean): Promise<number> {
  const cache = await LayerCache.open(stateDir);
  const dropped = cache.retainBlobs(blobStays);
  if (dropped > 0 && apply) await cache.save();
  return dropped;
}
