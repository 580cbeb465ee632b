// The record blob (a build record's JSON, gzip level 9) made from the record a piece of text at a time: a 1M-entry
// game's record is about 170 MB of JSON, and as one string, its UTF-8 copy, and the inflated bytes of the blob it
// was compared with, making the blob took about 500 MiB (100k files: 70 MiB over the rest of a no-op push). Same
// bytes as gzipSync(JSON.stringify(content), level 9): deflate without flushes gives the same stream however its
// input is cut (test/record-blob.test.ts holds the two equal).
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, createGzip } from 'node:zlib';
import { jsonChunks } from '../util/json-chunks.js';
import { collectYoungGarbage } from '../util/young-garbage.js';

/** Bytes made (pieces of JSON, inflated chunks) between two scavenges. */
const COLLECT_BYTES = 4 << 20;

/**
 * The JSON of `content`, as UTF-8 pieces. Each piece's Buffer (32 KiB) has its own memory outside the heap, freed
 * when a collection finds it dead: a scavenge every few MiB keeps the gzip's dead input from piling up (about
 * 10 MiB at a 1M-entry push's peak, stop 43).
 */
function* textPieces(content: unknown): Generator<Buffer> {
  let young = 0;
  for (const piece of jsonChunks(content)) {
    const bytes = Buffer.from(piece);
    if ((young += bytes.length) >= COLLECT_BYTES) {
      young = 0;
      collectYoungGarbage();
    }
    yield bytes;
  }
}

/** sha256 and length of `content`'s JSON, never held whole. */
function textDigest(content: unknown): { digest: string; length: number } {
  const h = createHash('sha256');
  let length = 0;
  for (const b of textPieces(content)) {
    h.update(b);
    length += b.length;
  }
  return { digest: h.digest('hex'), length };
}

/**
 * What record blobs already read inflate to (sha256 and length of their JSON), by the blob's buffer: the push's
 * reuse check of the blob the build read as its previous record (a no-op's) then inflates nothing again; for a
 * 100k-file game that is a gunzip and a sha256 of 22 MB. Holds two numbers per blob, not the JSON.
 */
const inflated = new WeakMap<Buffer, { digest: string; length: number }>();

/** Notes what gzip `blob` inflated to (`json`, read whole by the caller). */
export function noteInflated(blob: Buffer, json: Buffer): void {
  inflated.set(blob, { digest: createHash('sha256').update(json).digest('hex'), length: json.length });
}

/** Whether gzip `bytes` inflate to exactly `content`'s JSON (a damaged stream, or more bytes than that: false). */
export async function inflatesToJson(bytes: Buffer, content: unknown): Promise<boolean> {
  const want = textDigest(content);
  const known = inflated.get(bytes);
  if (known) return known.length === want.length && known.digest === want.digest;
  const h = createHash('sha256');
  let length = 0;
  let young = 0;
  try {
    await pipeline(
      Readable.from([bytes]),
      createGunzip(),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          length += chunk.length;
          // Past the expected length it is not this record: stop inflating (a bomb is not read out).
          if (length > want.length) return done(new Error('longer than the record'));
          h.update(chunk);
          // Each 16 KiB of output is a new Buffer, and inflating allocates nothing on V8's heap that would start a
          // collection: a 1M-entry record's 170 MB left about 20 MiB of dead chunks at a push's peak (stop 43).
          if ((young += chunk.length) >= COLLECT_BYTES) {
            young = 0;
            collectYoungGarbage();
          }
          done();
        },
      }),
    );
  } catch {
    return false;
  }
  return length === want.length && h.digest('hex') === want.digest;
}

/** `content`'s JSON, gzip level 9; `encoding` > 0 is written into the header's MTIME field (other bytes, same JSON). */
export async function gzipJson(content: unknown, encoding = 0): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(textPieces(content)),
    createGzip({ level: zlibConstants.Z_BEST_COMPRESSION }),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  const bytes = Buffer.concat(out);
  if (encoding > 0) bytes.writeUInt32LE(encoding, 4);
  return bytes;
}
