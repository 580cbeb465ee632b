// Step images: the image documents of one build: a tree image per tree (base + the tree's layers + its sentinel
// layer) and the combined server image (base + every tree layer, start command as entrypoint), per platform; an
// index per image name when several platforms are built. All share the same layer blobs. They are written to the
// store (content-addressed: a document that is there already is the same bytes) and tagged `<tag>` and
// `<tag>-<tree>`; a layout that names blobs it does not hold (kept in the registry) is marked partial.
import { imageTags } from './tags.js';
import type { BaseImage } from '../../oci/base-image.js';
import { imageConfig, imageIndex, imageManifest, layerDescriptor, parsePlatform, type JsonDocument, type Platform } from '../../oci/image.js';
import { layoutBlob } from '../../oci/layout.js';
import type { AnyImage, Image, Layer } from '../../oci/model.js';
import { GAME_ANNOTATION } from '../../oci/store-game.js';
import type { OciStore } from '../../oci/store.js';
import { markPartial, partialAnnotations } from '../../registry/partial-layout.js';
import { SERVER_IMAGE, TREE_NAMES, type BuildRecord, type BuiltLayer, type Descriptor, type TreeName } from '../../types.js';
import type { BuildInputs } from './inputs.js';
import type { LayersOutput } from './layers.js';
import type { PlatformPlan } from './plan.js';
import type { RegistryPrevious } from './previous.js';
import { settleAll } from '../../util/settle-all.js';
import { startArgv } from '../../config/start.js';

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
  /** The studio's other games' repositories holding layers of this build (see the layers step). */
  studioSources?: LayersOutput['studioSources'];
};

export interface ImagesOutput {
  /** Every image of the build as the image model (a fresh build is one of its sources), by name and platform. */
  images: BuiltImage[];
  /** Per platform, the built layers in stack order and each tree's sentinel layer. */
  perPlatform: PlatformLayers[];
  /** `<tag>` (the server image), then `<tag>-<tree>` per tree. */
  tags: string[];
}

/**
 * The record's list of images (a stored shape that must stay: its schema is in types.ts), from the model: name,
 * platform, digest and media type, and for a platform image its layers (base first).
 */
export function recordImages(images: BuiltImage[]): BuildRecord['images'] {
  return images.map(({ name, platform, image }) => ({
    name,
    platform,
    digest: image.descriptor.digest,
    mediaType: image.descriptor.mediaType,
    layers: image.kind === 'image' ? image.layers.map((l) => ({ digest: l.digest, size: l.size })) : undefined,
  }));
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
  const meta = { game: config.game, start: startArgv(config.start), treeDigests, labels: i.labels };
  const images = await storeImages(store, perPlatform, TREE_NAMES, meta, { inRegistryOnly, baseInRegistry });
  const tags = imageTags(tag);
  const partial = inRegistryOnly.size || baseInRegistry.size;
  const kept = inRegistryOnly.size ? [...(remote ? [remote.repository, ...(remote.keptIn ? [remote.keptIn] : [])] : []), ...(i.studioSources ?? []).map((s) => s.repository)] : [];
  const sources = partial ? [...kept, ...(baseInRegistry.size ? plans.map((p) => p.base.pinned!.repository) : [])] : [];
  // The tags' entries as they end up (owner, and partial marks when the store lacks blobs kept elsewhere), all in
  // one change of index.json: none at all when a no-op build finds them in place.
  const annotations = { [GAME_ANNOTATION]: config.game, ...(partial ? partialAnnotations(sources) : {}) };
  const names = [SERVER_IMAGE, ...TREE_NAMES];
  await store.tagMany(names.map((n, i) => ({ name: tags[i]!, descriptor: topLevel(images, n), annotations })));
  // Other tags of the same images (an earlier tag of an identical build) are marked too, as before.
  if (partial) await markPartial(store, names.map((n) => topLevel(images, n).digest), sources);
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
  start: string[];
  treeDigests: Record<string, string>;
}

/** An image of the build: its name (`server` or a tree), its platform (none for an index) and the image itself. */
export interface BuiltImage {
  name: string;
  platform?: string;
  image: AnyImage;
}

/** Layers the store does not hold: kept in the registry (the previous build's, or a base's left there). */
export interface NotInStore {
  inRegistryOnly?: Set<string>;
  baseInRegistry?: Set<string>;
}

/**
 * An image's labels and annotations. The config's `version` is left out: it would give identical trees new image
 * digests on every release, so every pod template (pinned by digest) would change and roll with nothing to
 * deliver; the version lives in the build record and the workload's own metadata.
 */
function labels(meta: ImageMeta, image: string): Record<string, string> {
  const l: Record<string, string> = {
    ...meta.labels,
    'org.opencontainers.image.title': `${meta.game}${image === SERVER_IMAGE ? '' : `-${image}`}`,
    'dev.gamelayer.game': meta.game,
    'dev.gamelayer.image': image,
  };
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
  entrypoint: string[] | undefined,
  notInStore: NotInStore,
): Promise<Image> {
  const l = labels(meta, name);
  const config = imageConfig({
    platform: p.platform,
    base: p.base.config,
    layers: layers.map((x) => ({ diffID: x.diffID, createdBy: `gamelayer: ${x.tree} layer ${x.index}` })),
    entrypoint,
    labels: l,
  });
  await put(store, config);
  const all = [...p.base.layers.map(layerDescriptor), ...layers.map(layerDescriptor)];
  const manifest = imageManifest({ config: config.descriptor, layers: all, annotations: l, platform: p.platform });
  await put(store, manifest);
  // The image as the model: its blobs read from the store, except a base layer left in the registry (read from the
  // base's source) and a kept layer only the registry holds (listed as missing, as the layout source would).
  const modelLayers: Layer[] = [
    ...p.base.layers.map((b) => (notInStore.baseInRegistry?.has(b.digest) ? b : layoutBlob(store.dir, b, b.diffID))),
    ...layers.map((x) => layoutBlob(store.dir, x, x.diffID)),
  ];
  const missing = layers.filter((x) => notInStore.inRegistryOnly?.has(x.digest)).map(layerDescriptor);
  return {
    kind: 'image',
    descriptor: manifest.descriptor,
    bytes: manifest.bytes,
    manifest: manifest.value,
    config: layoutBlob(store.dir, config.descriptor),
    layers: modelLayers,
    ...(missing.length ? { missing } : {}),
  };
}

/** Writes configs, manifests and (for several platforms) indexes; returns every image with its descriptor. */
export async function storeImages(
  store: OciStore,
  perPlatform: PlatformLayers[],
  trees: readonly TreeName[],
  meta: ImageMeta,
  notInStore: NotInStore = {},
): Promise<BuiltImage[]> {
  // The images side by side (each its own documents; on a no-op every one is a digest check of files already
  // there, so the cost is waiting on the file system), listed in the order of names and platforms.
  const one = async (name: string): Promise<BuiltImage[]> => {
    const platformImages = await settleAll(
      perPlatform.map((p) => {
        const layers = name === SERVER_IMAGE ? p.layers : [...p.layers.filter((l) => l.tree === name), p.sentinels[name as TreeName]];
        return storeImage(store, p, name, layers, meta, name === SERVER_IMAGE ? meta.start : undefined, notInStore);
      }),
    );
    const out: BuiltImage[] = platformImages.map((image, i) => ({ name, platform: perPlatform[i]!.platformName, image }));
    if (perPlatform.length > 1) {
      const index = imageIndex(platformImages.map((i) => i.descriptor), labels(meta, name));
      await put(store, index);
      out.push({ name, image: { kind: 'index', descriptor: index.descriptor, bytes: index.bytes, index: index.value, manifests: platformImages } });
    }
    return out;
  };
  return (await settleAll([SERVER_IMAGE, ...trees].map(one))).flat();
}

/** The descriptor to tag for an image name: its index when there is one, else its only manifest. */
export function topLevel(images: BuiltImage[], name: string): Descriptor {
  const index = images.find((i) => i.name === name && i.platform === undefined);
  const only = images.filter((i) => i.name === name);
  const d = index?.image.descriptor ?? (only.length === 1 ? only[0]!.image.descriptor : undefined);
  if (!d) throw new Error(`no top-level image for ${name}`);
  const { platform: _p, ...plain } = d;
  return plain;
}
