// The decompressor of a layer blob by its media type: what reads a layer back (the SBOM's member hashes, the layer
// cache's proof of a row) undoes what the layer writer did, as a stream.
import { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GamelayerError } from '../errors.js';
import { zstdProcess } from './zstd-process.js';

const TAR_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
const GZIP_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip']);
const ZSTD_TYPES = new Set(['application/vnd.oci.image.layer.v1.tar+zstd']);

/** The decompressor of a blob of `mediaType` (none for a plain tar); `unknown` is thrown for a type no layer has. */
export function decompressorFor(mediaType: string, unknown: () => Error): Duplex | undefined {
  if (TAR_TYPES.has(mediaType)) return undefined;
  if (GZIP_TYPES.has(mediaType)) return createGunzip();
  if (ZSTD_TYPES.has(mediaType)) return zstdDecompressor();
  throw unknown();
}

/** `base.layer-type`: a base layer whose media type is not a layer's (what decompressorFor's callers throw). */
export function notALayerType(digest: string, mediaType: string): GamelayerError {
  return new GamelayerError('base.layer-type', `base layer ${digest}: media type ${mediaType} is not a layer's`);
}

/**
 * `zstd -d -c` as a Duplex (Node 20's zlib has no zstd). Its exit status is checked (zstd-process.ts): a frame it
 * cannot decode after good ones ended the output early as if complete, and zstd's own message reached the terminal
 * unlabelled while the layer was taken.
 */
function zstdDecompressor(): Duplex {
  // A plain Error: the bytes are the layer's fault, and each reader names the layer (base.archive, sbom.layer-unreadable…).
  return zstdProcess('zstd', ['-d', '-c', '-q'], (why) => new Error(why));
}
