// Images of the image model as a `docker save` archive (manifest.json + config files + layer files), the format
// `docker load` of Docker 20.10 takes. Streamed: each config and layer is opened (verified as it streams) while the
// tar is read, each once even when shared; docker load accepts gzip layers as they are.
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { digestHex } from '../oci/layout.js';
import { pickPlatform, type Image, type ImageBlob } from '../oci/model.js';
import { readCompleteLayoutImage } from '../registry/partial-layout.js';
import { packEntries, type PackEntry } from '../oci/tar.js';

export interface SaveImage {
  /** Tag or digest of the image in the layout. */
  selector: string;
  /** Names docker gives it, e.g. `game:v1`. */
  repoTags: string[];
}

/** An image for the Docker daemon: the platform image (the model) and the names docker gives it. */
export interface DaemonImage extends SaveImage {
  image: Image;
}

const LAYER_TYPES = /^application\/vnd\.(oci\.image\.layer\.v1\.tar(\+gzip)?|docker\.image\.rootfs\.diff\.tar(\.gzip)?)$/;

/**
 * How messages name an image: by its tag. run-local reads the store by digest, and a refusal naming only
 * `sha256:…` left the user to find which of the five images it was; the tag (`z1-engine`) comes first there.
 */
export function saveImageName(img: SaveImage): string {
  if (!img.selector.startsWith('sha256:')) return img.selector;
  const named = img.repoTags[0];
  return named ? `${named.slice(named.lastIndexOf(':') + 1)} (${img.selector})` : img.selector;
}

/** Refuses layers docker load of Docker 20.10 cannot read (zstd), naming the image and the layer. */
export function checkDaemonLayers(name: string, image: Image): void {
  for (const l of image.layers) {
    if (!LAYER_TYPES.test(l.mediaType)) {
      throw new GamelayerError(
        'load.layer-type',
        `image ${name}: layer ${l.digest} is ${l.mediaType}, which docker load of Docker 20.10 cannot read`,
        'build with gzip layers (layers.compression: gzip) to load into this daemon',
      );
    }
  }
}

/** The layout's images for the daemon's platform (the layout source, then the platform picked out of an index). */
export async function resolveSaveImages(layoutDir: string, images: SaveImage[], platform: { os: string; architecture: string }): Promise<DaemonImage[]> {
  const out: DaemonImage[] = [];
  for (const img of images) {
    // A partial layout (layers kept in the registry by the build) gets what it lacks first, digest-verified.
    const image = pickPlatform(await readCompleteLayoutImage(layoutDir, img.selector), saveImageName(img), platform);
    checkDaemonLayers(saveImageName(img), image);
    out.push({ ...img, image });
  }
  return out;
}

const configName = (d: ImageBlob) => `${digestHex(d.digest)}.json`;
const layerName = (d: ImageBlob) => `${digestHex(d.digest)}/layer.tar`;

/**
 * The docker-save tar of the images, as a stream; blobs are opened one at a time while it is read. (The first
 * argument, the layout folder, is no longer needed: each blob knows where its bytes are.)
 */
export function dockerSaveStream(_layoutDir: string | undefined, images: DaemonImage[]): Readable {
  const manifest = images.map((i) => ({ Config: configName(i.image.config), RepoTags: i.repoTags, Layers: i.image.layers.map(layerName) }));
  const files = new Map<string, ImageBlob>();
  for (const i of images) {
    files.set(configName(i.image.config), i.image.config);
    for (const l of i.image.layers) files.set(layerName(l), l);
  }
  const mtime = new Date(0);
  const entries: PackEntry[] = [{ header: { name: 'manifest.json', mode: 0o644, mtime }, body: Buffer.from(JSON.stringify(manifest)) }];
  for (const [name, b] of [...files].sort(([a], [c]) => (a < c ? -1 : 1))) {
    // Verified as it streams (the last bytes wait for the digest check): docker never gets a damaged blob whole.
    entries.push({ header: { name, size: b.size, mode: 0o644, mtime }, body: () => b.open() });
  }
  return packEntries(entries);
}
