// sha256 of every file of a layer, read from the layer blob itself (decompressed, tar members hashed).
//
// Why from the blob and not while the layer writer reads the source: the SBOM must state what the image holds,
// and the blob is that; layers are reused across builds (and downloaded by `build --from`), so hashes taken at
// write time would exist only for the layers this build wrote. A blob never changes under its digest, so the
// result is cached per layer digest: a build whose layers are all reused hashes nothing, a small change hashes
// only its new patch layer, and a build without --sbom pays nothing at all.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GamelayerError } from '../errors.js';
import type { OciStore } from '../oci/store.js';
import { readCheckedJson, writeCheckedJsonPieces } from '../util/checked-json.js';
import { tarHasher } from './tar-hash.js';

const CACHE_FORMAT = 'gamelayer-layer-files/1';

export interface LayerFile {
  /** Member name as in the tar: no leading `/` or `./`. */
  name: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
}

export interface LayerFiles {
  digest: string;
  files: LayerFile[];
  /** Names of whiteout members (`dir/.wh.name`), as in the tar. */
  whiteouts: string[];
}

const TAR_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
const GZIP_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip']);
const ZSTD_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar+zstd']);

/** The files of the layer `digest` (media type `mediaType`) in `store`, from the cache under `stateDir` or by reading the blob. */
export async function layerFiles(store: OciStore, stateDir: string, layer: { digest: string; size: number; mediaType: string }): Promise<LayerFiles> {
  const cacheFile = path.join(stateDir, 'cache', 'layer-files', `${layer.digest.replace(':', '-')}.json`);
  const cached = await readCheckedJson<LayerFiles>(cacheFile, CACHE_FORMAT);
  if (cached.ok && cached.value.digest === layer.digest && Array.isArray(cached.value.files)) return cached.value;
  const result = await hashLayer(store, layer);
  await writeCheckedJsonPieces(cacheFile, CACHE_FORMAT, cacheJson(result));
  return result;
}

/**
 * JSON.stringify(files) in pieces: the same bytes, never one string (a layer of 1M entries makes 130 MB of JSON,
 * held twice, as text and as the bytes written).
 */
function* cacheJson(r: LayerFiles): Iterable<string> {
  let piece = `{"digest":${JSON.stringify(r.digest)},"files":[`;
  for (let i = 0; i < r.files.length; i++) {
    const f = r.files[i]!;
    piece += `${i ? ',' : ''}{"name":${JSON.stringify(f.name)},"size":${JSON.stringify(f.size)},"sha256":${JSON.stringify(f.sha256)}}`;
    if (piece.length >= 1 << 15) { // small pieces die young (see PIECE in cyclonedx.ts)
      yield piece;
      piece = '';
    }
  }
  yield `${piece}],"whiteouts":${JSON.stringify(r.whiteouts)}}`;
}

async function hashLayer(store: OciStore, layer: { digest: string; size: number; mediaType: string }): Promise<LayerFiles> {
  const blob = await store.openBlob(layer.digest, layer.size);
  const decompress = decompressorFor(layer.mediaType, layer.digest);
  const { sink, members } = tarHasher();
  try {
    if (decompress) await pipeline(blob, decompress, sink);
    else await pipeline(blob, sink);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError('sbom.layer-unreadable', `layer ${layer.digest} in the local store is not a readable ${layer.mediaType}: ${(e as Error).message}`, 'rebuild the image (gamelayer build) so its layers are in the store');
  }
  return { digest: layer.digest, files: members.files, whiteouts: members.whiteouts };
}

function decompressorFor(mediaType: string, digest: string): Duplex | undefined {
  if (TAR_TYPES.has(mediaType)) return undefined;
  if (GZIP_TYPES.has(mediaType)) return createGunzip();
  if (ZSTD_TYPES.has(mediaType)) return zstdDecompressor();
  throw new GamelayerError('sbom.layer-type', `layer ${digest} has media type ${mediaType}, which the SBOM cannot read`);
}

/** `zstd -d -c` as a Duplex (Node 20's zlib has no zstd). */
function zstdDecompressor(): Duplex {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const output = child.stdout!;
  child.on('error', (e) => output.destroy(new GamelayerError('zstd.missing', `cannot run zstd: ${e.message}`, 'install zstd (apt-get install zstd)')));
  return Duplex.from({ writable: child.stdin!, readable: output });
}
