// Which blobs of a local OCI layout are known to hash to their names, and readers that prove it while they stream.
//
// Why markers: `build` reuses layers by digest, and hashing every reused blob on every no-op build would re-read
// gigabytes for nothing; trusting a blob by its size alone lets a same-size overwrite through (issue 14). So a blob
// is hashed in full once — when the store writes it (the writer hashes what it writes) or the first time a build
// wants to reuse it without a valid marker — and then a marker (in the build's state folder, never inside the OCI
// layout, which stays exactly what the spec describes) records the file's size, mtime, ctime (ns), inode and
// device at that moment. Any later write to the file changes mtime and ctime (ctime cannot be set back by a user),
// a replacement changes the inode: the marker no longer matches, and the next reuse hashes the blob again. What a
// marker cannot see (bit rot under unchanged metadata) is still caught at the latest while the blob streams out:
// every reader (push, the docker-save stream of docker load and run-local, store reads) hashes the bytes as they go
// and holds back the last chunk until they match, so a wrong blob never leaves the store whole. A reader that finds
// damage bumps the file's ctime (a chmod to its own mode), which voids every marker of it: the next build hashes
// the blob, removes it and builds the layer again.
import { createHash } from 'node:crypto';
import { createReadStream, type BigIntStats } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { GamelayerError, errnoCode } from '../errors.js';
import { sweepStaleTemps, tempTag } from '../util/temp-files.js';
import { readSmallFile } from '../util/small-file.js';

export class BlobMismatch extends GamelayerError {
  constructor(where: string, what: string) {
    super(
      'store.blob-corrupt',
      `${where}: ${what}`,
      'the blob file is damaged (truncated or changed on disk after it was written); run gamelayer build again: it checks reused blobs and rebuilds a damaged layer',
    );
  }
}

function fingerprint(file: string, st: BigIntStats): string {
  return `${path.resolve(file)}\nsize=${st.size} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ino=${st.ino} dev=${st.dev}\n`;
}

/**
 * Where a blob's marker lives: one file per digest (two stores sharing the folder differ by path and inode). The
 * digest was checked when its blob's path was made (layout.ts's blobPath), so its hex is a plain file name.
 */
function markerName(digest: string): string {
  return digest.slice('sha256:'.length);
}

/** Removes markers half-written by runs that were killed. */
export async function sweepMarkers(markerDir: string): Promise<void> {
  await sweepStaleTemps(markerDir).catch(() => {});
}

/** True when the blob file is there (with `size`, when given) and unchanged since its bytes were last hashed. */
export async function markerValid(markerDir: string | undefined, file: string, digest: string, size?: number): Promise<boolean> {
  if (!markerDir) return false;
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  if (!st?.isFile() || (size !== undefined && st.size !== BigInt(size))) return false;
  return (await readMarkerText(markerDir, markerName(digest))) === fingerprint(file, st);
}

/**
 * The text of the marker `name` in `markerDir` (a blob's fingerprint, or a fact proven of its bytes: base-diffid.ts);
 * undefined when there is none. A marker that is not a small regular file (a FIFO would block the read) is none.
 */
export async function readMarkerText(markerDir: string, name: string, maxBytes = 4096): Promise<string | undefined> {
  const marker = await readSmallFile(path.join(markerDir, name), maxBytes).catch(() => undefined);
  return marker !== undefined && 'bytes' in marker ? marker.bytes.toString('utf8') : undefined;
}

/**
 * Writes the marker `name` whole (a temp the sweep knows, then a rename). Throws what the write threw; the temp is
 * gone either way.
 */
export async function writeMarkerText(markerDir: string, name: string, text: string): Promise<void> {
  await mkdir(markerDir, { recursive: true });
  const tmp = path.join(markerDir, `.${name}.${tempTag()}`);
  try {
    await writeSmall(tmp, text);
    await rename(tmp, path.join(markerDir, name));
  } catch (e) {
    // A write that failed (a full disk) leaves no empty temp marker behind, as a failed rename leaves none.
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Records that the blob's bytes, as they are now, hash to its digest. Best effort: without a marker the blob is hashed again. */
export async function markVerified(markerDir: string | undefined, file: string, digest: string): Promise<void> {
  if (!markerDir) return;
  try {
    const st = await stat(file, { bigint: true });
    await writeMarkerText(markerDir, markerName(digest), fingerprint(file, st));
  } catch {
    // A read-only state folder keeps no markers: slower, never wrong.
  }
}

/** Voids every marker of a blob found damaged: a chmod to its own mode moves its ctime on. */
export async function voidMarkers(file: string): Promise<void> {
  try {
    await chmod(file, (await stat(file)).mode & 0o7777);
  } catch {
    // Gone or read-only: nothing to void, or it cannot be rebuilt here anyway.
  }
}

async function writeSmall(file: string, text: string): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}

/** sha256 and size of a whole file. */
export async function hashFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export type BlobCheck = { status: 'ok' } | { status: 'missing' } | { status: 'damaged'; file: string; problem: string };

/**
 * Whether the blob may be reused: a valid marker, or else a full hash (then marked). A damaged blob is removed,
 * so that whoever wanted it writes it anew; the result names the file and what was wrong.
 */
export async function checkBlob(file: string, markerDir: string | undefined, digest: string, size?: number): Promise<BlobCheck> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return { status: 'missing' };
  if (await markerValid(markerDir, file, digest, size)) return { status: 'ok' };
  let problem: string | undefined;
  if (size !== undefined && st.size !== size) problem = `${st.size} bytes, expected ${size}`;
  else {
    const got = await hashFile(file).catch((e: unknown) => ({ digest: `unreadable (${(e as Error).message})`, size: -1 }));
    if (got.digest !== digest) problem = `content hashes to ${got.digest}, not ${digest}`;
  }
  if (problem === undefined) {
    await markVerified(markerDir, file, digest);
    return { status: 'ok' };
  }
  // Remove the file hashed, not a good copy another build renamed into its place meanwhile.
  const now = await stat(file).catch(() => undefined);
  if (now?.ino === st.ino && now.dev === st.dev) await rm(file, { force: true }).catch(() => {});
  return { status: 'damaged', file, problem };
}

/**
 * Passes bytes through while hashing, and holds the last chunk back until the digest (and size) are checked:
 * the reader never receives a wrong blob whole, only an error naming the file.
 */
export class VerifyDigest extends Transform {
  private readonly hash = createHash('sha256');
  private seen = 0;
  private held?: Buffer;

  constructor(
    private readonly where: string,
    private readonly digest: string,
    private readonly size?: number,
    private readonly onMismatch?: () => void,
    /** The error of a mismatch (default: a damaged store blob; a registry source names the registry instead). */
    private readonly mismatchError: (where: string, what: string) => GamelayerError = (where, what) => new BlobMismatch(where, what),
  ) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.seen += chunk.length;
    if (this.size !== undefined && this.seen > this.size) return cb(this.fail(`more than ${this.size} bytes`));
    if (this.held) this.push(this.held);
    this.held = chunk;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.seen !== this.size) return cb(this.fail(`${this.seen} bytes, expected ${this.size}`));
    const got = `sha256:${this.hash.digest('hex')}`;
    if (got !== this.digest) return cb(this.fail(`content hashes to ${got}, not ${this.digest}`));
    if (this.held) this.push(this.held);
    cb();
  }

  private fail(what: string): GamelayerError {
    this.onMismatch?.();
    return this.mismatchError(this.where, what);
  }
}

/** A blob file as a stream that errors (before its last bytes) unless they hash to the digest. */
export function openVerifiedBlob(file: string, digest: string, size?: number, onMismatch?: (e: BlobMismatch) => void): Readable {
  const verify = new VerifyDigest(file, digest, size, () => void voidMarkers(file), (where, what) => {
    const e = new BlobMismatch(where, what);
    onMismatch?.(e);
    return e;
  });
  pipeline(blobFileStream(file, {}, () => onMismatch?.(new BlobMismatch(file, BLOB_GONE))), verify, () => {});
  return verify;
}

const BLOB_GONE = 'the file is gone (removed while it was being read: by hand, or by a gamelayer gc on another host)';

/**
 * The blob file's bytes. A file removed since it was listed is the store's problem, not the reader's: `onGone` runs
 * before the error reaches the stream's consumer, so a push names the file instead of blaming the network (ENOENT).
 */
function blobFileStream(file: string, range: { start?: number; end?: number }, onGone: () => void): Readable {
  const stream = createReadStream(file, { ...range, highWaterMark: 1 << 20 });
  stream.once('error', (e) => {
    if (errnoCode(e) === 'ENOENT') onGone();
  });
  return stream;
}

/**
 * A blob read in byte ranges (a push: the whole blob, or resumable chunks, some sent again after a failure) and
 * verified across them: ranges are hashed in order as they are read, and the range that ends the blob holds its
 * last chunk back until the digest matches. `damage()` says what was wrong once a range failed.
 */
export interface VerifiedRanges {
  readonly file: string;
  open(start?: number, endInclusive?: number): Readable;
  damage(): BlobMismatch | undefined;
  /** The digest of the bytes on disk now (a full read), to tell local damage from a registry's mistake. */
  actualDigest(): Promise<string>;
}

export function verifiedRanges(file: string, digest: string, size: number): VerifiedRanges {
  const hash = createHash('sha256');
  let hashedTo = 0;
  let verdict: 'ok' | BlobMismatch | undefined;
  const mismatch = (what: string) => {
    verdict = new BlobMismatch(file, what);
    void voidMarkers(file);
    return verdict;
  };
  /** The verdict for the whole blob, once every byte went through `hash` (or, after gaps, by a full read). */
  const settle = async (): Promise<'ok' | BlobMismatch> => {
    if (verdict) return verdict;
    if (hashedTo === size) {
      const got = `sha256:${hash.digest('hex')}`;
      return got === digest ? (verdict = 'ok') : mismatch(`content hashes to ${got}, not ${digest}`);
    }
    const whole = await hashFile(file);
    if (whole.size !== size) return mismatch(`${whole.size} bytes, expected ${size}`);
    return whole.digest === digest ? (verdict = 'ok') : mismatch(`content hashes to ${whole.digest}, not ${digest}`);
  };
  return {
    file,
    damage: () => (verdict instanceof BlobMismatch ? verdict : undefined),
    actualDigest: async () => (await hashFile(file)).digest,
    open(start = 0, end = size - 1) {
      if (verdict instanceof BlobMismatch) {
        const failed = new PassThrough();
        failed.destroy(verdict);
        return failed;
      }
      const last = end === size - 1;
      let pos = start;
      let held: Buffer | undefined;
      const t = new Transform({
        transform(chunk: Buffer, _e, cb) {
          if (verdict === undefined && pos <= hashedTo && pos + chunk.length > hashedTo) {
            hash.update(chunk.subarray(hashedTo - pos));
            hashedTo = pos + chunk.length;
          }
          pos += chunk.length;
          if (!last) return cb(null, chunk);
          if (held) this.push(held);
          held = chunk;
          cb();
        },
        flush(cb) {
          if (pos !== end + 1) return cb(mismatch(`${pos} bytes where ${size} were expected`));
          if (!last) return cb();
          settle().then(
            (v) => {
              if (v !== 'ok') return cb(v);
              if (held) this.push(held);
              cb();
            },
            (e: unknown) => cb(e as Error),
          );
        },
      });
      pipeline(blobFileStream(file, { start, end }, () => mismatch(BLOB_GONE)), t, () => {});
      return t;
    },
  };
}

/** Passes bytes [start, end] through and drops the rest (the whole blob still flows, so it is still verified). */
export function byteRange(start: number, end: number): Transform {
  let pos = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      const from = Math.max(start - pos, 0);
      const to = Math.min(end + 1 - pos, chunk.length);
      pos += chunk.length;
      cb(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}
