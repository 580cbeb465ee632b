// What the local store holds: every tag of .gamelayer/oci with its image, size and the build it came from.
// Builds are known by their records (.gamelayer/records/build-<tag>.json, read through state/records.ts).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { checkLayoutFolder, OCI_LAYOUT_FILE } from '../oci/layout-folder.js';
import { OciStore, REF_NAME } from '../oci/store.js';
import { readDocumentRefs } from '../oci/document-refs.js';
import { isLastBuildName, lastBuildToRead, readBuildRecord, recordsDir } from '../state/records.js';
import { buildRecordFile, currentRecordName, isLegacyRecordName, namesStore, tagOfRecordName } from '../state/record-name.js';
import { readBuildSummary, type BuildRecordSummary } from '../state/record-summary.js';
import { TREE_NAMES, type BuildRecord, type Descriptor } from '../types.js';
import { exists } from '../util/exists.js';
import { newestFirst, olderFirst } from '../util/instant.js';
import { buildTags } from './inspect.js';

export interface LocalBuild {
  tag: string;
  file: string;
  record: BuildRecord;
}

/**
 * A build record without its trees' entries (`manifests`, `plan`): what listing, choosing and collecting builds need.
 * A 100k-file game's record holds every entry twice (tens of MB of JSON, about 40 MiB once parsed), so a command
 * that holds every build's record holds that once per build (state/record-summary.ts reads one without them).
 */
export type { BuildRecordSummary };

export interface LocalBuildSummary {
  tag: string;
  file: string;
  record: BuildRecordSummary;
}

export interface LocalTagRow {
  tag: string;
  /** `server` or a tree name for the images of a build; `other` for tags no build record names. */
  image: string;
  digest: string;
  mediaType: string;
  /** Manifests, configs and layers of the image (all platforms of an index, each blob once); layers shared with other tags count in each. */
  size: number;
  /** The build this tag belongs to, when a record says so. */
  build?: string;
  createdAt?: string;
  /** The tag is a build's own tag (its server image): `inspect <tag>` shows its record. */
  record: boolean;
  /** The commit that built it (a CodeBuild build), from its record: the images carry no revision label. */
  revision?: string;
}

/**
 * Every build record of the store's game, newest first (build-last.json is a copy of one of them), each whole: this
 * holds every build's entries at once; `localBuildSummaries` holds none.
 */
export async function localBuilds(config: GameConfig): Promise<LocalBuild[]> {
  return readLocalBuilds(config, readBuildRecord);
}

/** Every build of the store's game, newest first, as summaries: no build's entries are parsed. */
export async function localBuildSummaries(config: GameConfig): Promise<LocalBuildSummary[]> {
  return readLocalBuilds(config, readBuildSummary);
}

async function readLocalBuilds<R extends BuildRecordSummary>(config: GameConfig, read: (file: string) => Promise<R>): Promise<{ tag: string; file: string; record: R }[]> {
  const dir = recordsDir(config.stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: { tag: string; file: string; record: R }[] = [];
  for (const n of names) {
    const tag = tagOfRecordName(n);
    if (tag === undefined || isLastBuildName(n)) continue;
    // An old name of a tag with upper case, beside the current one (written again since, elsewhere): listed once.
    if (isLegacyRecordName(n) && names.includes(currentRecordName(n)!)) continue;
    const file = path.join(dir, n);
    out.push({ tag, file, record: await read(file) });
  }
  // By the instants the times name, not their text (another zone, or no fractional seconds, sorted wrong).
  return out.sort(newestFirst((b) => b.record.createdAt, (a, b) => a.tag.localeCompare(b.tag)));
}

/**
 * The content layers of `record` that an earlier build of the config's store holds too, by digest (their size): the
 * layers it reused rather than made, as its build counted them (`push` says which of them a registry lacked).
 */
export async function layersFromEarlierBuilds(config: GameConfig, record: Pick<BuildRecord, 'createdAt' | 'layers' | 'plan'>): Promise<Map<string, number>> {
  const earlier = (await localBuildSummaries(config)).filter((b) => isStoreBuild(config, b) && olderFirst(b.record.createdAt, record.createdAt) < 0);
  const held = new Set(earlier.flatMap((b) => b.record.layers.map((l) => l.digest)));
  // The plan's layers are the trees' content; the tree images' marker layers are the record's others.
  const content = new Set(record.plan.layers.map((l) => l.inputKey));
  return new Map(record.layers.filter((l) => content.has(l.inputKey) && held.has(l.digest)).map((l) => [l.digest, l.size]));
}

export async function openLocalStore(config: GameConfig): Promise<OciStore | undefined> {
  if (!(await exists(path.join(config.store, 'index.json')))) {
    // A layout of another version without an index was "no images yet" (gc: "removed 0"): refused, as a build does.
    if (await exists(path.join(config.store, OCI_LAYOUT_FILE))) await checkLayoutFolder(config.store);
    return undefined;
  }
  return OciStore.open(config.store, { create: false });
}

/**
 * Whether a build is of the config's store: its record names that store, or none (older versions: any store's, its
 * images tell). Configs sharing the records folder may each have a build of the same tag (record-name.ts).
 */
export function isStoreBuild(config: Pick<GameConfig, 'stateDir' | 'store'>, build: { record: Pick<BuildRecordSummary, 'store'> }): boolean {
  return namesStore(config, build.record.store);
}

export async function listLocal(config: GameConfig): Promise<{ store: string; tags: LocalTagRow[]; builds: LocalBuildSummary[] }> {
  const builds = await localBuildSummaries(config);
  const store = await openLocalStore(config);
  if (!store) return { store: config.store, tags: [], builds };
  const owner = new Map<string, { build: LocalBuildSummary; image: string }>();
  // Oldest first, so a tag moved by a later build belongs to the later one.
  for (const b of [...builds].reverse()) {
    // Another store's build of a tag is not this store's image of it.
    if (!isStoreBuild(config, b)) continue;
    for (const t of buildTags(b.record)) {
      owner.set(t, { build: b, image: 'server' });
      for (const tree of TREE_NAMES) owner.set(`${t}-${tree}`, { build: b, image: tree });
    }
  }
  const index = await store.readIndex();
  const tags: LocalTagRow[] = [];
  for (const d of index.manifests) {
    const tag = d.annotations?.[REF_NAME];
    if (tag === undefined) continue;
    const o = owner.get(tag);
    // A tag whose digest is not what the build recorded was moved since: do not claim it for that build.
    const recorded = o?.build.record.images.find((i) => i.name === o.image && (i.platform === undefined || o.build.record.platforms.length === 1));
    const mine = o && (!recorded || recorded.digest === d.digest || o.build.record.index === d.digest);
    tags.push({
      tag,
      image: mine ? o!.image : 'other',
      digest: d.digest,
      mediaType: d.mediaType,
      size: await imageSize(store, d, new Set(), `tag ${tag} of ${store.indexPath}`),
      build: mine ? o!.build.tag : undefined,
      createdAt: mine ? o!.build.record.createdAt : undefined,
      record: Boolean(mine && o!.image === 'server' && o!.build.tag === tag),
      ...(mine && o!.build.record.revision !== undefined ? { revision: o!.build.record.revision } : {}),
    });
  }
  return { store: store.dir, tags, builds };
}

/**
 * Bytes an image takes: its manifest, config and layers; for an index, every platform's, each blob once (the
 * platforms of a game share their media layers, which the store and a registry hold once).
 */
export async function imageSize(store: OciStore, d: Descriptor, seen = new Set<string>(), what = `image ${d.digest}`): Promise<number> {
  if (seen.has(d.digest)) return 0;
  seen.add(d.digest);
  const doc = await readDocumentRefs(store, d.digest, what);
  let n = d.size;
  for (const m of doc.manifests) n += await imageSize(store, m, seen);
  for (const b of [...(doc.config ? [doc.config] : []), ...doc.layers]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    n += b.size;
  }
  return n;
}

/** The local build named `tag` (default: the last build), its record whole; the others are read as summaries. */
export async function localBuild(config: GameConfig, tag?: string, summaries?: readonly LocalBuildSummary[]): Promise<LocalBuild> {
  const found = await localBuildSummary(config, tag, summaries);
  return { tag: found.tag, file: found.file, record: await readBuildRecord(found.file) };
}

/**
 * The record file of the local build named `tag`: this store's record of that tag found by its file name
 * (record-name.ts: at most its head read), else as `localBuildSummary` finds it (a tree image's tag, another store's
 * build), which reads every record's summary.
 */
export async function localBuildFile(config: GameConfig, tag: string): Promise<string> {
  return (await buildRecordFile(config, tag)) ?? (await localBuildSummary(config, tag)).file;
}

/** The local build named `tag` (default: the last build), as a summary: no record is read whole. */
export async function localBuildSummary(config: GameConfig, tag?: string, summaries?: readonly LocalBuildSummary[]): Promise<LocalBuildSummary> {
  const builds = summaries ?? (await localBuildSummaries(config));
  if (!tag) {
    // The store's last-build pointer is a copy of the tagged record: that build, by its file, when it is still here.
    const last = await lastBuildToRead(config);
    const record = await readBuildSummary(last);
    const same = builds.find((b) => isStoreBuild(config, b) && b.record.createdAt === record.createdAt && b.record.tags[0] === record.tags[0]);
    return same ?? { tag: record.tags[0] ?? 'last', file: last, record };
  }
  // A tree image's tag (`v2-app`, listed by `ls` as v2's) names its build too.
  // This store's build of the tag first; another store's (a build of its config, by its tag) when this one has none.
  const mine = builds.filter((b) => isStoreBuild(config, b));
  const named = (among: readonly LocalBuildSummary[]) => among.find((b) => b.tag === tag) ?? among.find((b) => buildTags(b.record).includes(tag)) ?? among.find((b) => b.record.tags.includes(tag));
  const found = named(mine) ?? named(builds);
  if (!found) {
    throw new GamelayerError(
      'record.no-build',
      `no build ${tag} in ${recordsDir(config.stateDir)}`,
      builds.length ? `builds here: ${builds.map((b) => b.tag).join(', ')}` : 'run gamelayer build',
    );
  }
  return found;
}
