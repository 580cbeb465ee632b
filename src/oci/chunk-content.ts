// The bytes of a chunked tree's generated entries for the layer writer: a chunk is a byte range of its source file,
// checked on the way (its sha256 must be its name, its xxh64 the manifest's); a recipe is bytes made by the scan.
// Every other entry goes to the tree's own content source, with its fast paths untouched.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { GamelayerError, errnoCode } from '../errors.js';
import { hex64, xxhashApi } from '../scan/hash.js';
import type { ChunkSources } from '../scan/chunk-tree.js';
import type { FileEntry } from '../types.js';
import { ContentChanged, type ContentSource } from './content.js';

type Api = Awaited<ReturnType<typeof xxhashApi>>;

function chunkChanged(file: string, offset: number, size: number, entry: FileEntry, what: string): GamelayerError {
  return new ContentChanged(file, `the chunk ${path.basename(entry.path)} (bytes ${offset}–${offset + size - 1}) ${what}`);
}

/** Checks a chunk's bytes against its name and entry; returns the error, if any. */
function check(bytes: Uint8Array, sha256: string, entry: FileEntry, api: Api): string | undefined {
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== sha256) return `hashes to sha256 ${got.slice(0, 16)}…, not its name`;
  const x = hex64(api.h64Raw(bytes));
  if (x !== entry.xxh64) return `hashes to xxh64 ${x}, not ${entry.xxh64}`;
  return undefined;
}

/** Streams a byte range and fails at its end unless it hashes to the chunk's name and entry. */
class VerifyRange extends Transform {
  private readonly sha = createHash('sha256');
  private readonly x;
  private seen = 0;
  constructor(
    private readonly file: string,
    private readonly where: { offset: number; size: number; sha256: string },
    private readonly entry: FileEntry,
    api: Api,
  ) {
    super();
    this.x = api.create64();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    this.sha.update(chunk);
    this.x.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const { offset, size, sha256 } = this.where;
    if (this.seen !== size) return cb(chunkChanged(this.file, offset, size, this.entry, `has ${this.seen} bytes instead of ${size}: the file is shorter`));
    const got = this.sha.digest('hex');
    if (got !== sha256) return cb(chunkChanged(this.file, offset, size, this.entry, `hashes to sha256 ${got.slice(0, 16)}…, not its name`));
    const x = hex64(this.x.digest());
    if (x !== this.entry.xxh64) return cb(chunkChanged(this.file, offset, size, this.entry, `hashes to xxh64 ${x}, not ${this.entry.xxh64}`));
    cb();
  }
}

export function chunkedContentSource(inner: ContentSource, sources: ChunkSources, api: Api): ContentSource {
  const where = (e: FileEntry) => sources.chunks.get(e.path);
  const open = async (e: FileEntry): Promise<Readable> => {
    const recipe = sources.recipes.get(e.path);
    if (recipe) return Readable.from([recipe]);
    const c = where(e);
    if (!c) return inner.open(e);
    const file = path.join(sources.root, c.file);
    const raw = createReadStream(file, { start: c.offset, end: c.offset + c.size - 1, highWaterMark: 1 << 20 });
    const verify = new VerifyRange(file, c, e, api);
    pipeline(raw, verify, (err) => {
      if (err && !(err instanceof GamelayerError)) verify.destroy(errnoCode(err) === 'ENOENT' ? new ContentChanged(file, 'it was removed') : new GamelayerError('content.unreadable', `${file}: cannot read: ${err.message}`));
    });
    return verify;
  };
  const innerReadInto = inner.readInto?.bind(inner);
  const readInto = (e: FileEntry, buf: Buffer, offset: number): void | Promise<void> => {
    const recipe = sources.recipes.get(e.path);
    if (recipe) {
      recipe.copy(buf, offset);
      return;
    }
    const c = where(e);
    if (!c) return innerReadInto ? innerReadInto(e, buf, offset) : readWhole(open(e), buf, offset);
    const file = path.join(sources.root, c.file);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ContentChanged(file, 'it was removed');
      throw new GamelayerError('content.unreadable', `${file}: cannot read: ${(err as Error).message}`);
    }
    try {
      let got = 0;
      while (got < c.size) {
        const n = readSync(fd, buf, offset + got, c.size - got, c.offset + got);
        if (n === 0) break;
        got += n;
      }
      if (got !== c.size) throw chunkChanged(file, c.offset, c.size, e, `has ${got} bytes instead of ${c.size}: the file is shorter`);
      const bad = check(buf.subarray(offset, offset + c.size), c.sha256, e, api);
      if (bad) throw chunkChanged(file, c.offset, c.size, e, bad);
    } finally {
      closeSync(fd);
    }
  };
  return { open, readInto };
}

async function readWhole(stream: Promise<Readable>, buf: Buffer, offset: number): Promise<void> {
  let at = offset;
  for await (const b of await stream) {
    (b as Buffer).copy(buf, at);
    at += (b as Buffer).length;
  }
}
