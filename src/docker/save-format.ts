// Images of an OCI layout as a `docker save` archive (manifest.json + config files + layer files), the format
// `docker load` of Docker 20.10 takes. Streamed: configs are small JSON, layer blobs are read from the store
// straight into the tar (docker load accepts gzip layers as they are), each layer once even when shared.
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { openVerifiedBlob } from '../oci/blob-verify.js';
import type { LayoutManifest } from '../oci/layout-reader.js';
import { readCompleteLayoutImage } from '../registry/partial-layout.js';
import type { Descriptor } from '../types.js';
import { digestHex } from '../oci/store.js';
import { packEntries, type PackEntry } from '../oci/tar.js';

export interface SaveImage {
  /** Tag or digest of the image in the layout. */
  selector: string;
  /** Names docker gives it, e.g. `game:v1`. */
  repoTags: string[];
}

export interface ResolvedSaveImage extends SaveImage {
  config: Descriptor;
  layers: Descriptor[];
}

const LAYER_TYPES = /^application\/vnd\.(oci\.image\.layer\.v1\.tar(\+gzip)?|docker\.image\.rootfs\.diff\.tar(\.gzip)?)$/;

/** The manifest for `os/arch` out of an index (or the manifest itself). */
function pickPlatform(m: LayoutManifest, selector: string, platform: { os: string; architecture: string }): LayoutManifest {
  if (m.children.length === 0) return m;
  const hit = m.children.find((c) => c.descriptor.platform?.os === platform.os && c.descriptor.platform?.architecture === platform.architecture);
  if (hit) return pickPlatform(hit, selector, platform);
  const have = m.children.map((c) => (c.descriptor.platform ? `${c.descriptor.platform.os}/${c.descriptor.platform.architecture}` : '?')).join(', ');
  throw new GamelayerError('load.platform', `image ${selector} has no ${platform.os}/${platform.architecture} manifest (it has ${have})`, 'load on a machine of a built platform, or build that platform');
}

export async function resolveSaveImages(
  layoutDir: string,
  images: SaveImage[],
  platform: { os: string; architecture: string },
): Promise<ResolvedSaveImage[]> {
  const out: ResolvedSaveImage[] = [];
  for (const img of images) {
    // A partial layout (layers kept in the registry by the build) gets what it lacks first, digest-verified.
    const m = pickPlatform(await readCompleteLayoutImage(layoutDir, img.selector), img.selector, platform);
    const [config, ...layers] = m.blobs;
    for (const l of layers) {
      if (!LAYER_TYPES.test(l.mediaType)) {
        throw new GamelayerError(
          'load.layer-type',
          `image ${img.selector}: layer ${l.digest} is ${l.mediaType}, which docker load of Docker 20.10 cannot read`,
          'build with gzip layers (layers.compression: gzip) to load into this daemon',
        );
      }
    }
    out.push({ ...img, config: config!, layers });
  }
  return out;
}

const configName = (d: Descriptor) => `${digestHex(d.digest)}.json`;
const layerName = (d: Descriptor) => `${digestHex(d.digest)}/layer.tar`;

/** The docker-save tar of the images, as a stream; blob files are opened one at a time while it is read. */
export function dockerSaveStream(layoutDir: string, images: ResolvedSaveImage[]): Readable {
  const manifest = images.map((i) => ({ Config: configName(i.config), RepoTags: i.repoTags, Layers: i.layers.map(layerName) }));
  const files = new Map<string, Descriptor>();
  for (const i of images) {
    files.set(configName(i.config), i.config);
    for (const l of i.layers) files.set(layerName(l), l);
  }
  const mtime = new Date(0);
  const entries: PackEntry[] = [{ header: { name: 'manifest.json', mode: 0o644, mtime }, body: Buffer.from(JSON.stringify(manifest)) }];
  for (const [name, d] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // Verified as it streams (the last bytes wait for the digest check): docker never gets a damaged blob whole.
    entries.push({ header: { name, size: d.size, mode: 0o644, mtime }, body: () => openVerifiedBlob(layoutDir, d.digest, d.size) });
  }
  return packEntries(entries);
}
