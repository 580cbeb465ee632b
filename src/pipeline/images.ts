// Image documents of one build: a tree image per tree (base + the tree's layers + its sentinel layer) and the
// combined server image (base + every tree layer, start command as entrypoint), per platform; an index per
// image name when several platforms are built. All share the same layer blobs.
import type { BaseImage } from '../oci/base-image.js';
import { imageConfig, imageIndex, imageManifest, layerDescriptor, type JsonDocument, type Platform } from '../oci/image.js';
import type { OciStore } from '../oci/store.js';
import { SERVER_IMAGE, type BuiltLayer, type Descriptor, type TreeName } from '../types.js';

export { SERVER_IMAGE } from '../types.js';

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
