// Step images: the image documents of one build: a tree image per tree (base + the tree's layers + its sentinel
// layer) and the combined server image (base + every tree layer, start command as entrypoint), per platform; an
// index per image name when several platforms are built. All share the same layer blobs. They are written to the
// store (content-addressed: a document that is there already is the same bytes) and tagged `<tag>` and
// `<tag>-<tree>`; a layout that names blobs it does not hold (kept in the registry) is marked partial.
import type { BaseImage } from '../../oci/base-image.js';
import { imageConfig, imageIndex, imageManifest, layerDescriptor, parsePlatform, type JsonDocument, type Platform } from '../../oci/image.js';
import { GAME_ANNOTATION } from '../../oci/store-game.js';
import type { OciStore } from '../../oci/store.js';
import { markPartial } from '../../registry/partial-layout.js';
import { SERVER_IMAGE, TREE_NAMES, type BuiltLayer, type Descriptor, type TreeName } from '../../types.js';
import type { BuildInputs } from './inputs.js';
import type { LayersOutput } from './layers.js';
import type { PlatformPlan } from './plan.js';
import type { RegistryPrevious } from './previous.js';

export { SERVER_IMAGE } from '../../types.js';

export type ImagesInput = Pick<BuildInputs, 'config' | 'store' | 'tag' | 'labels'> & {
  plans: PlatformPlan[];
  /** Base layers left in the registry (see the plan step). */
  baseInRegistry: Set<string>;
  built: LayersOutput['built'];
  /** Layers kept in the registry and not in the store (see the layers step). */
  inRegistryOnly: Set<string>;
  /** The registry's previous build, whose repository holds the kept layers. */
  remote?: RegistryPrevious;
};

export interface ImagesOutput {
  images: StoredImage[];
  /** Per platform, the built layers in stack order and each tree's sentinel layer. */
  perPlatform: PlatformLayers[];
  /** `<tag>` (the server image), then `<tag>-<tree>` per tree. */
  tags: string[];
}

export async function writeImages(i: ImagesInput): Promise<ImagesOutput> {
  const { config, store, tag, plans, built, inRegistryOnly, baseInRegistry, remote } = i;
  const treeDigests: Record<string, string> = {};
  for (const p of plans) for (const m of p.manifests) treeDigests[m.platform ? `${m.tree}@${m.platform}` : m.tree] = m.digest;
  const perPlatform: PlatformLayers[] = plans.map((p) => ({
    platform: parsePlatform(p.name),
    platformName: p.name,
    base: p.base,
    layers: p.plan.layers.map((l) => ({ ...built.get(l.inputKey)!.layer, tree: l.tree, index: l.index })),
    sentinels: Object.fromEntries([...p.sentinels].map(([tree, s]) => [tree, built.get(s.inputKey)!.layer])) as Record<TreeName, BuiltLayer>,
  }));
  const meta = { game: config.game, version: config.version, start: config.start, treeDigests, labels: i.labels };
  const images = await storeImages(store, perPlatform, TREE_NAMES, meta);
  const tags = [tag, ...TREE_NAMES.map((t) => `${tag}-${t}`)];
  const owner = { [GAME_ANNOTATION]: config.game };
  await store.tag(tag, topLevel(images, SERVER_IMAGE), owner);
  for (const t of TREE_NAMES) await store.tag(`${tag}-${t}`, topLevel(images, t), owner);
  if ((inRegistryOnly.size && remote) || baseInRegistry.size) {
    const sources = [...(inRegistryOnly.size && remote ? [remote.repository] : []), ...(baseInRegistry.size ? plans.map((p) => p.base.pinned!.repository) : [])];
    await markPartial(store, [SERVER_IMAGE, ...TREE_NAMES].map((n) => topLevel(images, n).digest), sources);
  }
  return { images, perPlatform, tags };
}

export interface PlatformLayers {
  platform: Platform;
  platformName: string;
  base: BaseImage;
  /** Tree layers in the stable order. */
  layers: BuiltLayer[];
  /** The sentinel layer of each tree image. */
  sentinels: Record<TreeName, BuiltLayer>;
}

export interface ImageMeta {
  /** Extra labels on every image (e.g. the source revision). */
  labels?: Record<string, string>;
  game: string;
  version?: string;
  start: string[];
  treeDigests: Record<string, string>;
}

export interface StoredImage {
  name: string;
  platform?: string;
  descriptor: Descriptor;
  /** Layers of a platform image (base first); undefined for an index. */
  layers?: { digest: string; size: number }[];
}

function labels(meta: ImageMeta, image: string): Record<string, string> {
  const l: Record<string, string> = {
    ...meta.labels,
    'org.opencontainers.image.title': `${meta.game}${image === SERVER_IMAGE ? '' : `-${image}`}`,
    'dev.gamelayer.game': meta.game,
    'dev.gamelayer.image': image,
  };
  if (meta.version) l['org.opencontainers.image.version'] = meta.version;
  for (const [tree, digest] of Object.entries(meta.treeDigests)) {
    if (image === SERVER_IMAGE || image === tree) l[`dev.gamelayer.tree.${tree}.digest`] = digest;
  }
  return l;
}

async function put(store: OciStore, doc: JsonDocument): Promise<Descriptor> {
  await store.putJson(doc.bytes, doc.descriptor.mediaType);
  return doc.descriptor;
}

async function storeImage(
  store: OciStore,
  p: PlatformLayers,
  name: string,
  layers: BuiltLayer[],
  meta: ImageMeta,
  entrypoint?: string[],
): Promise<{ descriptor: Descriptor; layers: { digest: string; size: number }[] }> {
  const l = labels(meta, name);
  const config = imageConfig({
    platform: p.platform,
    base: p.base.config,
    layers: layers.map((x) => ({ diffID: x.diffID, createdBy: `gamelayer: ${x.tree} layer ${x.index}` })),
    entrypoint,
    labels: l,
  });
  await put(store, config);
  const all = [...p.base.layers, ...layers.map(layerDescriptor)];
  const manifest = imageManifest({ config: config.descriptor, layers: all, annotations: l, platform: p.platform });
  return { descriptor: await put(store, manifest), layers: all.map((d) => ({ digest: d.digest, size: d.size })) };
}

/** Writes configs, manifests and (for several platforms) indexes; returns every image with its descriptor. */
export async function storeImages(
  store: OciStore,
  perPlatform: PlatformLayers[],
  trees: readonly TreeName[],
  meta: ImageMeta,
): Promise<StoredImage[]> {
  const out: StoredImage[] = [];
  const names = [SERVER_IMAGE, ...trees];
  for (const name of names) {
    const manifests: Descriptor[] = [];
    for (const p of perPlatform) {
      const layers = name === SERVER_IMAGE ? p.layers : [...p.layers.filter((l) => l.tree === name), p.sentinels[name as TreeName]];
      const stored = await storeImage(store, p, name, layers, meta, name === SERVER_IMAGE ? meta.start : undefined);
      manifests.push(stored.descriptor);
      out.push({ name, platform: p.platformName, descriptor: stored.descriptor, layers: stored.layers });
    }
    if (perPlatform.length > 1) {
      const index = imageIndex(manifests, labels(meta, name));
      out.push({ name, descriptor: await put(store, index) });
    }
  }
  return out;
}

/** The descriptor to tag for an image name: its index when there is one, else its only manifest. */
export function topLevel(images: StoredImage[], name: string): Descriptor {
  const index = images.find((i) => i.name === name && i.platform === undefined);
  const only = images.filter((i) => i.name === name);
  const d = index?.descriptor ?? (only.length === 1 ? only[0]!.descriptor : undefined);
  if (!d) throw new Error(`no top-level image for ${name}`);
  const { platform: _p, ...plain } = d;
  return plain;
}
