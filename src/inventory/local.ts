// What the local store holds: every tag of .gamelayer/oci with its image, size and the build it came from.
// Builds are known by their records (.gamelayer/records/build-<tag>.json, read through state/records.ts).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { OciStore, REF_NAME } from '../oci/store.js';
import { LAST_BUILD, readBuildRecord, recordsDir } from '../state/records.js';
import { TREE_NAMES, type BuildRecord, type Descriptor } from '../types.js';
import { exists } from '../util/exists.js';
import { buildTags } from './inspect.js';

export interface LocalBuild {
  tag: string;
  file: string;
  record: BuildRecord;
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
}

/** Every build record of the store's game, newest first (build-last.json is a copy of one of them). */
export async function localBuilds(config: GameConfig): Promise<LocalBuild[]> {
  const dir = recordsDir(config.stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: LocalBuild[] = [];
  for (const n of names) {
    const m = /^build-(.+)\.json$/.exec(n);
    if (!m || n === LAST_BUILD) continue;
    const file = path.join(dir, n);
    out.push({ tag: m[1]!, file, record: await readBuildRecord(file) });
  }
  return out.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt) || a.tag.localeCompare(b.tag));
}

export async function openLocalStore(config: GameConfig): Promise<OciStore | undefined> {
  if (!(await exists(path.join(config.store, 'index.json')))) return undefined;
  return OciStore.open(config.store, { create: false });
}

export async function listLocal(config: GameConfig): Promise<{ store: string; tags: LocalTagRow[]; builds: LocalBuild[] }> {
  const builds = await localBuilds(config);
  const store = await openLocalStore(config);
  if (!store) return { store: config.store, tags: [], builds };
  const owner = new Map<string, { build: LocalBuild; image: string }>();
  // Oldest first, so a tag moved by a later build belongs to the later one.
  for (const b of [...builds].reverse()) {
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
      size: await imageSize(store, d),
      build: mine ? o!.build.tag : undefined,
      createdAt: mine ? o!.build.record.createdAt : undefined,
      record: Boolean(mine && o!.image === 'server' && o!.build.tag === tag),
    });
  }
  return { store: store.dir, tags, builds };
}

/**
 * Bytes an image takes: its manifest, config and layers; for an index, every platform's, each blob once (the
 * platforms of a game share their media layers, which the store and a registry hold once).
 */
export async function imageSize(store: OciStore, d: Descriptor, seen = new Set<string>()): Promise<number> {
  if (seen.has(d.digest)) return 0;
  seen.add(d.digest);
  const doc = JSON.parse((await store.readBlob(d.digest)).toString('utf8')) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  let n = d.size;
  for (const m of doc.manifests ?? []) n += await imageSize(store, m, seen);
  for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    n += b.size;
  }
  return n;
}

/** The local build named `tag` (default: the last build). */
export async function localBuild(config: GameConfig, tag?: string): Promise<LocalBuild> {
  const builds = await localBuilds(config);
  if (!tag) {
    const last = path.join(recordsDir(config.stateDir), LAST_BUILD);
    const record = await readBuildRecord(last);
    return builds.find((b) => b.record.createdAt === record.createdAt && b.record.tags[0] === record.tags[0]) ?? { tag: record.tags[0] ?? 'last', file: last, record };
  }
  const found = builds.find((b) => b.tag === tag) ?? builds.find((b) => buildTags(b.record).includes(tag));
  if (!found) {
    throw new GamelayerError(
      'record.no-build',
      `no build ${tag} in ${recordsDir(config.stateDir)}`,
      builds.length ? `builds here: ${builds.map((b) => b.tag).join(', ')}` : 'run gamelayer build',
    );
  }
  return found;
}
