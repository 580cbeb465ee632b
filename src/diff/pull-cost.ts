// What a Kubernetes node that runs version A must pull to run version B: the layers of B's images that A's
// images do not have (a node keeps layers by digest and never pulls one it has). Per image, and for the pod,
// which runs the four tree images (the engine image plus one init image per other tree).
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
}

export interface PullCost {
  images: ImagePullCost[];
  /** The pod: distinct layers of B's tree images missing from A's tree images. */
  pod: { bytes: number; newBytes: number; layers: number; newLayers: number; platform?: string };
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
    const have = new Set((imageLayers(a, img.name, platform) ?? []).map((l) => l.digest));
    const fresh = img.layers.filter((l) => !have.has(l.digest));
    images.push({
      image: img.name,
      platform,
      bytes: sum(img.layers),
      newBytes: sum(fresh),
      layers: img.layers.length,
      newLayers: fresh.length,
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
    },
  };
}

function sum(ls: Layers): number {
  return ls.reduce((n, l) => n + l.size, 0);
}
