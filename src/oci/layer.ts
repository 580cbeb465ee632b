// One layer in one streaming pass: tar → sha256 (diffID) → compress → sha256 (digest) → blob in the store.
// Nothing is held in memory beyond stream buffers, and a failure anywhere leaves no blob behind.
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BuiltLayer, PlannedLayer } from '../types.js';
import type { MountParents } from '../plan/mount-parents.js';
import type { ContentSource } from './content.js';
import { createDigestingGzip } from './gzip.js';
import type { OciStore } from './store.js';
import { layerTarChunks } from './tar.js';
import { startZstdToFile, type ZstdFileFeed, type ZstdOptions } from './zstd.js';

export { compressedLowerBound, compressorId, LAYER_MEDIA_TYPE, MAX_COMPRESSION_RATIO, type LayerCompression } from './layer-kinds.js';
import { LAYER_MEDIA_TYPE, type LayerCompression } from './layer-kinds.js';

export interface BuildLayerOptions {
  content: ContentSource;
  /** Mount path of the layer's tree in the image, e.g. `/opt/local/app-media`. */
  mount: string;
  /** The base's owner and mode of folders above the mount that are not root 0755 (plan/mount-parents.ts). */
  parents?: MountParents;
  store: OciStore;
  compression?: LayerCompression;
  /** Entry mtime in seconds; default SOURCE_DATE_EPOCH or 0. */
  mtime?: number;
  /** Called with uncompressed tar bytes as they are produced (progress). */
  onBytes?: (n: number) => void;
  /**
   * The registry's limit on one (compressed) layer: once the compressed bytes pass it, the build of this layer
   * stops with `tooBig()`'s error and leaves no blob. Compressible content far above the limit still passes.
   */
  maxBytes?: number;
  tooBig?: () => Error;
  /**
   * Called once the whole tar is with the compressor (the layer's files are read): the caller may start the next
   * layer's tar while this one finishes (compressor tail, blob hash, fsync, rename).
   */
  inputDone?: () => void;
  /** Stops the layer between two tar chunks (a caller cancelled the build): no blob is left, as for any failure. */
  signal?: AbortSignal;
}

/** Resolves once `stream` took `chunk` (a Transform has passed it to its transform, which copied it). */
function written(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (e) => (e ? reject(e) : resolve())));
}

/** Counts compressed bytes and fails the stream as soon as they pass the limit. */
class SizeLimit extends Transform {
  private bytes = 0;

  constructor(
    private readonly max: number,
    private readonly tooBig: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return cb(this.tooBig());
    cb(null, chunk);
  }
}

export async function buildLayer(layer: PlannedLayer, options: BuildLayerOptions): Promise<BuiltLayer> {
  const compression = options.compression ?? { kind: 'gzip' };
  if (compression.kind === 'zstd') return buildZstdLayer(layer, options, compression);
  // The gzip stream takes the diffID itself: with its worker threads, in one of them.
  const gzip = createDigestingGzip(compression, options.onBytes);
  const writer = options.store.createBlobWriter();
  // The tar writer's chunks are reused (layerTarChunks): each is written to the gzip stream, which copies it into
  // the block it fills, before the next is asked for. No buffer is made per MiB of tar (1M empty files make 512 MiB
  // of headers), so none waits for a GC in the malloc heap, which then keeps the pages.
  const tar = layerTarChunks(layer, options.content, { mount: options.mount, mtime: options.mtime, tree: layer.tree, parents: options.parents });
  let out: Promise<void> | undefined;
  try {
    const limit = options.maxBytes === undefined ? undefined : new SizeLimit(options.maxBytes, options.tooBig ?? (() => new Error(`layer over ${options.maxBytes} bytes`)));
    out = limit ? pipeline(gzip, limit, writer.stream) : pipeline(gzip, writer.stream);
    // The output failed (the store, the size limit): the write waiting for the gzip stream fails with it.
    const broken = out.then(() => Promise.reject(new Error('the gzip stream ended before the tar')));
    broken.catch(() => {});
    for await (const chunk of tar) {
      options.signal?.throwIfAborted();
      await Promise.race([written(gzip, chunk), broken]);
    }
    gzip.end();
    options.inputDone?.();
    await out;
  } catch (e) {
    await tar.return(undefined).catch(() => {});
    gzip.destroy();
    // The store's stream closed before its temp file goes.
    await out?.catch(() => {});
    await writer.abort();
    throw e;
  }
  const { digest, size } = await writer.commit();
  return {
    tree: layer.tree,
    index: layer.index,
    inputKey: layer.inputKey,
    diffID: gzip.input!.digest,
    digest,
    size,
    mediaType: LAYER_MEDIA_TYPE[compression.kind],
  };
}

/**
 * A zstd layer: the tar's chunks are handed to a feed thread that hashes them (diffID) and writes them to a `zstd`
 * process, which writes the blob's temp file itself; the blob's digest is then taken from that file, on the same
 * thread. The thread making the tar (reading and checking files) does nothing else.
 */
async function buildZstdLayer(layer: PlannedLayer, options: BuildLayerOptions, compression: ZstdOptions): Promise<BuiltLayer> {
  const writer = await options.store.createFileBlobWriter();
  let tar: AsyncGenerator<Buffer> | undefined;
  let zstd: ZstdFileFeed | undefined;
  // zstd's output is at most its input plus 1/256 and a few KiB (ZSTD_compressBound): the blob's size (an fstat) is
  // looked at only once the input could have taken it over the limit, not for every chunk of every layer.
  let input = 0;
  const mayBeOver = (max: number) => input + (input >> 7) + (1 << 20) > max;
  const overLimit = () => options.maxBytes !== undefined && mayBeOver(options.maxBytes) && writer.size() > options.maxBytes;
  const tooBig = () => (options.tooBig ?? (() => new Error(`layer over ${options.maxBytes} bytes`)))();
  let diffID: string;
  try {
    zstd = await startZstdToFile({ ...compression, output: writer.handle.fd, outputPath: writer.path });
    // The tar is written into the feed's slots (its chunk pool): each chunk is the feed's once written to it.
    tar = layerTarChunks(layer, options.content, { mount: options.mount, mtime: options.mtime, tree: layer.tree, parents: options.parents }, zstd.chunks);
    for await (const chunk of tar) {
      options.signal?.throwIfAborted();
      options.onBytes?.(chunk.length);
      input += chunk.length;
      if (overLimit()) throw tooBig();
      await zstd.write(chunk);
    }
    options.inputDone?.();
    ({ diffID } = await zstd.end());
    if (overLimit()) throw tooBig();
  } catch (e) {
    await tar?.return(undefined).catch(() => {});
    await zstd?.abort();
    await writer.abort();
    throw e;
  }
  const feed = zstd;
  const { digest, size } = await writer.commit(undefined, (fd) => feed.hashFile(fd)).finally(() => feed.abort());
  return {
    tree: layer.tree,
    index: layer.index,
    inputKey: layer.inputKey,
    diffID,
    digest,
    size,
    mediaType: LAYER_MEDIA_TYPE.zstd,
  };
}
