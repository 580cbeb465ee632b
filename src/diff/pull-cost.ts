// What a Kubernetes node that runs version A must pull to run version B: the layers of B's images that A's
// images do not have (a node keeps layers by digest and never pulls one it has). Per image, and for the pod,
// which runs the four tree images (the engine image plus one init image per other tree). What it unpacks is more:
// a node keeps unpacked layers by their chain (the layer and every layer below it), so a layer above one that changed
// (a new base image under the game, a compacted lower layer) is unpacked again though its blob is there.
import { SERVER_IMAGE, type BuildRecord } from '../types.js';
import { chunkPullCost, type ChunkPullCost } from './chunks.js';

export interface ImagePullCost {
  image: string;
  platform?: string;
  /** Compressed bytes of every layer of B's image, and of those not in A's image of the same name. */
  bytes: number;
  newBytes: number;
  layers: number;
  newLayers: number;
  /** Compressed bytes of the layers a node unpacks: every layer from the lowest one not in A's image's stack up. */
  unpackBytes: number;
  unpackLayers: number;
}

export interface PullCost {
  images: ImagePullCost[];
  /** The pod: distinct layers of B's tree images missing from A's tree images. */
  pod: { bytes: number; newBytes: number; layers: number; newLayers: number; unpackBytes: number; unpackLayers: number; platform?: string };
  /** Chunked trees (docs/chunks.md): the chunks B's tree has that A's lacks; set when B has a chunked tree. */
  chunks?: ChunkPullCost[];
}

type Layers = { digest: string; size: number }[];

function imageLayers(r: Pick<BuildRecord, 'images'>, name: string, platform: string | undefined): Layers | undefined {
  return r.images.find((i) => i.name === name && i.platform === platform && i.layers)?.layers;
}

export function pullCost(a: Pick<BuildRecord, 'images'> & { manifests?: BuildRecord['manifests'] }, b: Pick<BuildRecord, 'images' | 'platforms'> & { manifests?: BuildRecord['manifests'] }, platform = b.platforms[0]): PullCost {
  const images: ImagePullCost[] = [];
  for (const img of b.images) {
    if (!img.layers || img.platform !== platform) continue;
    const before = imageLayers(a, img.name, platform) ?? [];
    const have = new Set(before.map((l) => l.digest));
    const fresh = img.layers.filter((l) => !have.has(l.digest));
    const unpack = img.layers.slice(commonBase(before, img.layers));
    images.push({
      image: img.name,
      platform,
      bytes: sum(img.layers),
      newBytes: sum(fresh),
      layers: img.layers.length,
      newLayers: fresh.length,
      unpackBytes: sum(unpack),
      unpackLayers: unpack.length,
    });
  }
  // The pod's tree images share their lower stacks (the base): a chain is unpacked once, whichever image brings it.
  const unpacked = new Map<string, number>();
  for (const img of b.images) {
    if (img.name === SERVER_IMAGE || !img.layers || img.platform !== platform) continue;
    const keep = commonBase(imageLayers(a, img.name, platform) ?? [], img.layers);
    img.layers.forEach((l, i) => {
      if (i >= keep) unpacked.set(img.layers!.slice(0, i + 1).map((x) => x.digest).join(' '), l.size);
    });
  }
  const pod = (r: Pick<BuildRecord, 'images'>) => {
    const m = new Map<string, number>();
    for (const i of r.images) if (i.name !== SERVER_IMAGE && i.platform === platform) for (const l of i.layers ?? []) m.set(l.digest, l.size);
    return m;
  };
  const podA = pod(a);
  const podB = pod(b);
  const fresh = [...podB].filter(([d]) => !podA.has(d));
  const chunks = chunkPullCost(a.manifests ?? [], (b.manifests ?? []).filter((m) => m.platform === undefined || m.platform === platform));
  return {
    ...(chunks.length ? { chunks } : {}),
    images,
    pod: {
      platform,
      bytes: [...podB.values()].reduce((n, s) => n + s, 0),
      newBytes: fresh.reduce((n, [, s]) => n + s, 0),
      layers: podB.size,
      newLayers: fresh.length,
      unpackBytes: [...unpacked.values()].reduce((n, s) => n + s, 0),
      unpackLayers: unpacked.size,
    },
  };
}

/** How many of `b`'s lowest layers are `a`'s, in order: the stack a node has unpacked already. */
function commonBase(a: Layers, b: Layers): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n]!.digest === b[n]!.digest) n++;
  return n;
}

function sum(ls: Layers): number {
  return ls.reduce((n, l) => n + l.size, 0);
}
