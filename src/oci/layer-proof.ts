// Proof that a stored layer blob is the tar of a planned layer's entries, read from the blob itself: what lets the
// layer cache reuse a row no build record vouches for (a cold build killed part-way, a branch whose record was
// collected). The blob is decompressed as a stream and held against the tar the layer writer would write: each
// entry's header blocks byte for byte (name, type, mode, size, mtime, owner, link target, in order), each file's
// body against the entry's xxh64, the padding and the end-of-tar blocks zero, nothing after them, and the whole
// uncompressed stream against the row's diffID. Nothing is held but one entry's header and a hash state.
import { createHash } from 'node:crypto';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hex64, xxhashApi, type XxhashApi } from '../scan/hash.js';
import type { BuiltLayer, FileEntry, PlannedLayer } from '../types.js';
import type { MountParents } from '../plan/mount-parents.js';
import { decompressorFor } from './layer-decompress.js';
import type { OciStore } from './store.js';
import { BLOCK, padding } from './tar-header.js';
import { layerTarHeaders } from './tar.js';

/** The blob is not the tar of the planned entries: why. */
class NotThisLayer extends Error {}

const END_OF_TAR = 2 * BLOCK;

/**
 * Undefined when `layer`'s blob in `store` is exactly the tar the layer writer makes of `planned`'s entries under
 * `mount` with `mtime` (and its uncompressed bytes hash to `layer.diffID`); else why not, for a warning.
 */
export async function proveLayerBlob(
  store: OciStore,
  layer: BuiltLayer,
  planned: Pick<PlannedLayer, 'entries' | 'tree'> & { parents?: MountParents },
  mount: string,
  mtime: number,
  onBlobBytes?: (n: number) => void,
): Promise<string | undefined> {
  try {
    const blob = await store.openBlob(layer.digest, layer.size);
    const decompress = decompressorFor(layer.mediaType, () => new Error(`its media type ${layer.mediaType} is not a layer's`));
    const sink = tarMatcher(layerTarHeaders(planned.entries, mount, mtime, planned.tree, planned.parents), layer.diffID, await xxhashApi());
    // The blob's bytes as they are read: a resume proves gigabytes, and the user sees it move.
    const counted = onBlobBytes ? blob.pipe(new Transform({ transform: (chunk: Buffer, _enc, done) => (onBlobBytes(chunk.length), done(null, chunk)) })) : blob;
    if (onBlobBytes) blob.once('error', (e) => counted.destroy(e));
    if (decompress) await pipeline(counted, decompress, sink);
    else await pipeline(counted, sink);
    return undefined;
  } catch (e) {
    if (e instanceof NotThisLayer) return `its blob ${layer.digest.slice(0, 19)}… ${e.message}`;
    return `its blob ${layer.digest.slice(0, 19)}… is not a readable layer: ${(e as Error).message}`;
  }
}

type Expected = { name: string; entry: FileEntry; header: Buffer };

/** A writable that fails (NotThisLayer) at the first byte where the tar differs from the expected entries. */
function tarMatcher(expected: Iterator<Expected>, diffID: string, api: XxhashApi): Writable {
  const sha = createHash('sha256');
  let cur: Expected | undefined;
  let last: string | undefined;
  let phase: 'header' | 'body' | 'pad' | 'end' | 'done' = 'header';
  /** Bytes of the current header matched, or of the body, padding or end still to come. */
  let at = 0;
  let remaining = 0;
  let hasher: ReturnType<XxhashApi['create64']> | undefined;
  let bodyHash: string | undefined;

  const nextEntry = () => {
    last = cur?.name;
    const n = expected.next();
    cur = n.done ? undefined : n.value;
    phase = cur ? 'header' : 'end';
    at = 0;
    remaining = cur ? 0 : END_OF_TAR;
  };
  const endBody = () => {
    const e = cur!.entry;
    const got = bodyHash ?? hex64(hasher ? hasher.digest() : api.h64Raw(new Uint8Array(0)));
    hasher = undefined;
    bodyHash = undefined;
    if (got !== e.xxh64) throw new NotThisLayer(`holds ${cur!.name} with content of xxh64 ${got}, not ${String(e.xxh64)} as planned`);
    remaining = padding(e.size);
    phase = 'pad';
    if (remaining === 0) nextEntry();
  };
  const zeros = (b: Buffer, what: () => string) => {
    for (let i = 0; i < b.length; i++) if (b[i] !== 0) throw new NotThisLayer(what());
  };
  const take = (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      if (phase === 'header') {
        const h = cur!.header;
        const n = Math.min(h.length - at, chunk.length - off);
        if (!chunk.subarray(off, off + n).equals(h.subarray(at, at + n))) {
          // No header's name starts with a NUL: a zero block here is the end of the tar.
          if (at === 0 && chunk[off] === 0) throw new NotThisLayer(`ends before ${cur!.name}, which the plan puts in this layer`);
          throw new NotThisLayer(`differs from the planned tar at ${cur!.name} (its header: name, type, mode, size, mtime or link target, or an entry extra or missing before it)`);
        }
        at += n;
        off += n;
        if (at < h.length) continue;
        if (cur!.entry.type !== 'file') {
          nextEntry();
          continue;
        }
        remaining = cur!.entry.size;
        phase = 'body';
        if (remaining === 0) endBody();
      } else if (phase === 'body') {
        const n = Math.min(remaining, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        // A body within one chunk (most files of a game) is hashed in one call, no hash state made for it.
        if (!hasher && n === remaining) bodyHash = hex64(api.h64Raw(part));
        else (hasher ??= api.create64()).update(part);
        off += n;
        remaining -= n;
        if (remaining === 0) endBody();
      } else if (phase === 'pad' || phase === 'end') {
        const n = Math.min(remaining, chunk.length - off);
        const where = phase === 'pad' ? `in the padding of ${cur!.name}` : `after ${last ?? 'the mount folders'}, where the tar should end`;
        zeros(chunk.subarray(off, off + n), () => `holds more than the planned entries (bytes ${where})`);
        off += n;
        remaining -= n;
        if (remaining > 0) continue;
        if (phase === 'pad') nextEntry();
        else phase = 'done';
      } else {
        throw new NotThisLayer(`holds bytes after the end of the planned tar`);
      }
    }
  };
  nextEntry();
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, cb) {
      try {
        sha.update(chunk);
        take(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    final(cb) {
      if (phase !== 'done') return cb(new NotThisLayer(cur ? `ends before ${cur.name}, which the plan puts in this layer` : 'ends before the end-of-tar blocks'));
      const got = `sha256:${sha.digest('hex')}`;
      cb(got === diffID ? null : new NotThisLayer(`is the planned tar, but it hashes to ${got.slice(0, 19)}…, not the row's diffID ${diffID.slice(0, 19)}…`));
    },
  });
}
