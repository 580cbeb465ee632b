// One build record, as a person or a script wants to read it: trees, layers (size, patch or kept from an earlier
// build), base layers, images and where the build was pushed (when the record says).
import { totalsOf, type RecordTotals } from '../state/record-summary.js';
import type { BuildRecord } from '../types.js';
import { olderFirst } from '../util/instant.js';

/** `marker`: a tree image's one-file `.gamelayer-tree` layer (tree name and digest), not content. */
export type LayerStatus = 'patch' | 'kept' | 'new' | 'marker';

export interface InspectView {
  game: string;
  version?: string;
  tags: string[];
  createdAt: string;
  platforms: string[];
  /** Where the record came from: a file, or host/repo@digest. */
  source: string;
  /**
   * The trees' files and their bytes. A chunked tree's are the files a copy of it holds (its big files whole, as
   * assembled), not the chunk and recipe entries its images hold instead; `chunks` counts those chunks.
   */
  trees: { tree: string; platform?: string; files: number; bytes: number; chunks?: number; digest: string; root: string }[];
  layers: { tree: string; index: number; platform?: string; digest: string; size: number; files: number; bytes: number; status: LayerStatus }[];
  /** Layers of the server image that are not the build's own: the base image's. */
  base: { layers: number; size: number };
  images: { name: string; platform?: string; digest: string; size?: number }[];
  index?: string;
  /** Where the build was pushed, when the record carries it (written by build --push / push). */
  pushed?: unknown;
  codebuildArn?: string;
  /** The commit and source repository that built it (CodeBuild), from the record: the images carry no revision label. */
  revision?: string;
  sourceUrl?: string;
}

/**
 * The view of `record` (whole, or its totals: `readRecordTotals` counts a local record's entries without holding
 * them). `earlier` are other builds' records (local ones, when known): a layer whose digest one of them holds was
 * kept, not built by this build. `notBuiltHere` are layers of the build that its own store lacks: a build planned on
 * the registry's record (a fresh host) keeps layers there and never downloads them, so it did not build them either.
 */
export function inspectRecord(
  whole: BuildRecord | RecordTotals,
  source: string,
  earlier: readonly Pick<BuildRecord, 'createdAt' | 'layers'>[] = [],
  notBuiltHere: ReadonlySet<string> = new Set(),
): InspectView {
  const record = 'manifests' in whole ? totalsOf(whole) : whole;
  const older = new Set([...notBuiltHere, ...earlier.filter((r) => olderFirst(r.createdAt, record.createdAt) < 0).flatMap((r) => r.layers.map((l) => l.digest))]);
  const plan = record.planLayers;
  const own = new Set(record.layers.map((l) => l.digest));
  const platformsOf = layerPlatforms(record);
  const layers = record.layers.map((l) => {
    const p = plan.find((x) => x.inputKey === l.inputKey);
    // The record's plan holds the trees' content layers; the tree images' marker layers are the others.
    const marker = p === undefined || (p.entries === 1 && p.firstPath === '.gamelayer-tree');
    return {
      tree: l.tree,
      index: l.index,
      platform: platformsOf.get(l.digest),
      digest: l.digest,
      size: l.size,
      files: p?.files ?? 0,
      bytes: p?.bytes ?? 0,
      // A patch an earlier build made is kept here like any of its layers: `patch` is one this build made.
      status: (marker ? 'marker' : older.has(l.digest) ? 'kept' : p?.patch ? 'patch' : 'new') as LayerStatus,
    };
  });
  const server = record.images.find((i) => i.name === 'server' && i.layers);
  const baseLayers = (server?.layers ?? []).filter((l) => !own.has(l.digest));
  const loose = record as RecordTotals & { pushed?: unknown; pushes?: unknown; destinations?: unknown };
  return {
    game: record.game,
    version: record.version,
    tags: buildTags(record),
    createdAt: record.createdAt,
    platforms: record.platforms,
    source,
    trees: record.trees.map((m) => ({
      tree: m.tree,
      platform: m.platform,
      ...treeFiles(m),
      digest: m.digest,
      root: m.root,
    })),
    layers,
    base: { layers: baseLayers.length, size: baseLayers.reduce((s, l) => s + l.size, 0) },
    images: record.images.map((i) => ({ name: i.name, platform: i.platform, digest: i.digest, size: i.layers?.reduce((s, l) => s + l.size, 0) })),
    index: record.index,
    pushed: loose.pushed ?? loose.pushes ?? loose.destinations,
    codebuildArn: record.codebuildArn,
    revision: record.revision,
    sourceUrl: record.sourceUrl,
  };
}

/**
 * A tree's files and bytes as its copy holds them. A chunked tree's entries under `.gamelayer-chunks/` are its chunks
 * and one recipe per big file: its files are the others plus the big files (their count and bytes recorded as
 * `assembled`; one per recipe, and the stored bytes, in records of builds before that was recorded).
 */
function treeFiles(m: RecordTotals['trees'][number]): { files: number; bytes: number; chunks?: number } {
  if (!m.chunks) return { files: m.files, bytes: m.bytes };
  const store = m.chunkStore ?? { files: 0, bytes: 0, chunks: 0, recipes: 0 };
  const whole = m.assembled ?? { files: store.recipes, bytes: store.bytes };
  return { files: m.files - store.files + whole.files, bytes: m.bytes - store.bytes + whole.bytes, chunks: store.chunks };
}

/**
 * The platform(s) whose images hold each layer, from the record's platform images: undefined for a layer every
 * platform shares (a media tree's), else the platforms joined by ", " (an engine or app layer; a tree image's marker
 * layer, which names the platform's tree digest and, in a chunked tree, holds the platform's assembler).
 */
function layerPlatforms(record: Pick<BuildRecord, 'images' | 'platforms'>): Map<string, string | undefined> {
  const holders = new Map<string, Set<string>>();
  for (const image of record.images) {
    if (image.platform === undefined) continue;
    for (const l of image.layers ?? []) {
      let set = holders.get(l.digest);
      if (!set) holders.set(l.digest, (set = new Set()));
      set.add(image.platform);
    }
  }
  const all = record.platforms.length;
  return new Map(
    [...holders].map(([digest, set]) => [digest, set.size >= all ? undefined : record.platforms.filter((p) => set.has(p)).join(', ')]),
  );
}

/** A build's own tags: its record lists them and their `<tag>-<tree>` tree-image tags; these are the former. */
export function buildTags(record: Pick<BuildRecord, 'tags'>): string[] {
  const all = new Set(record.tags);
  const trees = ['engine', 'engine-media', 'app', 'app-media'];
  return record.tags.filter((t) => !trees.some((tree) => t.endsWith(`-${tree}`) && all.has(t.slice(0, -tree.length - 1))));
}
