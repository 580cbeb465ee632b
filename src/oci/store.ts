// The local OCI image layout store (image-spec image-layout.md): `oci-layout`, `index.json`,
// `blobs/sha256/<hex>` (the names and index reading are layout.ts's). The writer of the layout and a sink of the
// image model (`putImage`). A blob appears only under its own digest and only whole; index.json changes
// under a lock and is replaced atomically, and never names a blob the store does not hold.
import { createHash } from 'node:crypto';
import { fstatSync } from 'node:fs';
import { link, mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GamelayerError, errnoCode } from '../errors.js';
import type { Descriptor } from '../types.js';
import { diskFullError } from '../util/disk-full.js';
import { sweepStaleTemps, tempTag } from '../util/temp-files.js';
import { acquireLock } from '../util/lock-file.js';
import { writeAll } from '../util/write-all.js';
import { exists } from '../util/exists.js';
import { kindOf, readSmallFile } from '../util/small-file.js';
import { syncDir, writeDurably, writeFileAtomic } from '../util/atomic-write.js';
import { checkLayoutFolder } from './layout-folder.js';
import { checkNewStoreFolder } from './store-folder.js';
import { blobPath, blobsDir, INDEX_MEDIA_TYPE, CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digestHex, OCI_LAYOUT_BYTES, OCI_LAYOUT_FILE, readLayoutIndex, REF_NAME, sha256Digest, type ImageIndex } from './layout.js';
import { blobsOf, childManifests, platformImages, type AnyImage } from './model.js';
import { BlobMismatch, checkBlob, markerValid, markVerified, openVerifiedBlob, sweepMarkers, voidMarkers, type BlobCheck } from './blob-verify.js';

// The layout's names, digest parsing and index reading live in layout.ts; re-exported for the store's users.
export { CONFIG_MEDIA_TYPE, digestHex, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, OCI_LAYOUT_BYTES, OCI_LAYOUT_FILE, REF_NAME, sha256Digest, type ImageIndex };

export { BlobMismatch };

/** A blob being written: bytes go to a temp file in the store; `commit` names it by its digest. */
export interface BlobWriter {
  readonly stream: Writable;
  /** fsyncs, checks the expectation if given, renames into place; returns the blob's digest and size. */
  commit(expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }>;
  /** Drops the temp file (after a failed pipeline). Safe to call twice. */
  abort(): Promise<void>;
}

/** A blob written into a temp file by someone else (see `OciStore.createFileBlobWriter`). */
export interface FileBlobWriter {
  /** The temp file, open for writing. */
  readonly handle: FileHandle;
  /** Its path, for a process that opens it itself (a compressor appending to it). */
  readonly path: string;
  /** Bytes in the file now (one fstat). */
  size(): number;
  /**
   * fsyncs, hashes the file from disk (with `hashFile` when given: say, on another thread; it must read the file
   * through the descriptor from the start), checks the expectation if given, renames into place.
   */
  commit(expected?: { digest?: string; size?: number }, hashFile?: (fd: number) => Promise<{ digest: string; size: number }>): Promise<{ digest: string; size: number }>;
  /** Drops the temp file. Safe to call twice. */
  abort(): Promise<void>;
}

/** A blob's temp file in the store until it is placed under its digest (`done`) or removed by `abort`. */
class TempBlobFile {
  fh: FileHandle | undefined;
  /** The open of the temp file while it is in flight: an abort waits for it, or the file would appear after it. */
  opening: Promise<unknown> | undefined;
  done = false;
  constructor(readonly tmp: string) {}

  /** Closes and removes the temp file. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.opening?.catch(() => {});
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await rm(this.tmp, { force: true });
  }
}

/** sha256 and size of a whole file, read from the start through one reused buffer. */
async function hashHandle(fh: FileHandle): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, size);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

export interface OpenStoreOptions {
  /** Create the layout if missing (default true); false opens a foreign layout read-only. */
  create?: boolean;
  /**
   * Folder for the store's verified-blob markers (a build's state folder): blobs proven to hash to their digest
   * are then not hashed again until their file changes. Without it every reuse check hashes the whole blob.
   */
  markers?: string;
  /**
   * The caller checked the folder (checkNewStoreFolder) under the hold it keeps on the store: not read again (a build
   * holds its store from its start, and the check reads and parses the store's index.json).
   */
  folderChecked?: boolean;
}

export class OciStore {
  private constructor(
    readonly dir: string,
    private readonly markers?: string,
  ) {}

  static async open(dir: string, options: OpenStoreOptions = {}): Promise<OciStore> {
    const store = new OciStore(path.resolve(dir), options.markers && path.resolve(options.markers));
    if (options.create === false) {
      await checkLayoutFolder(store.dir);
      return store;
    }
    if (!options.folderChecked) await checkNewStoreFolder(store.dir);
    await mkdir(blobsDir(store.dir), { recursive: true });
    await mkdir(store.tmpDir, { recursive: true });
    // Half-written blobs of runs that were killed: never under a digest name, but they take space.
    await sweepStaleTemps(store.tmpDir);
    if (store.markers) await sweepMarkers(store.markers);
    await store.createIfAbsent(OCI_LAYOUT_FILE, OCI_LAYOUT_BYTES);
    await store.createIfAbsent('index.json', serializeIndex({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [] }));
    return store;
  }

  /** Temp files live inside the store (same file system, so rename is atomic), outside `blobs/`. */
  private get tmpDir(): string {
    return path.join(this.dir, '.tmp');
  }

  private tmpName(): string {
    return path.join(this.tmpDir, tempTag());
  }

  /** Writes a whole file under its final name only if nothing is there (two first runs race harmlessly). */
  private async createIfAbsent(name: string, content: string): Promise<void> {
    const target = path.join(this.dir, name);
    if (await exists(target)) return;
    const tmp = this.tmpName();
    try {
      await writeDurably(tmp, content);
    } catch (e) {
      await rm(tmp, { force: true });
      throw this.writeError(e, name);
    }
    try {
      await link(tmp, target);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp);
    }
    await syncDir(this.dir);
  }

  /** A full disk named as this store's problem; other errors unchanged. */
  private writeError(e: unknown, what: string): unknown {
    return diskFullError(e, 'store.disk-full', this.dir, what);
  }

  blobPath(digest: string): string {
    return blobPath(this.dir, digest);
  }

  /** Presence (and size) only: enough to name a blob in index.json, not to reuse it (see checkBlob). */
  /** The folder of verified-blob markers, when the store keeps them (facts proven of a blob's bytes go beside them). */
  get markerDir(): string | undefined {
    return this.markers;
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    const st = await stat(this.blobPath(digest)).catch(() => undefined);
    return st !== undefined && st.isFile() && (size === undefined || st.size === size);
  }

  /**
   * Whether the blob may be reused as it is: its verified marker matches, or a full hash proves it (then it is
   * marked). A damaged blob is removed and reported by file, so the caller writes it anew (see blob-verify.ts).
   */
  checkBlob(digest: string, size?: number): Promise<BlobCheck> {
    return checkBlob(this.blobPath(digest), this.markers, digest, size);
  }

  /** The blob as a stream; it errors at the end if the bytes on disk do not hash to the digest. */
  async openBlob(digest: string, size?: number): Promise<Readable> {
    const file = this.blobPath(digest);
    const st = await stat(file).catch(() => undefined);
    if (!st) throw new GamelayerError('store.blob-missing', `${file}: blob ${digest} is not in the store ${this.dir}`);
    // A FIFO of the size a layer's descriptor says (0) blocked its read for ever: only a regular file is read.
    if (!st.isFile()) throw new BlobMismatch(file, `${kindOf(st)}, not a blob file`);
    if (size !== undefined && st.size !== size) throw new BlobMismatch(file, `${st.size} bytes, expected ${size}`);
    return openVerifiedBlob(file, digest, size);
  }

  /** A small blob (a manifest, config or index) read whole and verified. */
  async readBlob(digest: string, maxBytes = 16 << 20): Promise<Buffer> {
    const file = this.blobPath(digest);
    const read = await readSmallFile(file, maxBytes).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') throw new GamelayerError('store.blob-missing', `${file}: blob ${digest} is not in the store ${this.dir}`);
      throw e;
    });
    // A blob linked to /dev/zero or made a FIFO would be read for ever: only a regular file is read.
    if ('notFile' in read) throw new BlobMismatch(file, `${read.notFile}, not a blob file`);
    if ('tooBig' in read) throw new GamelayerError('store.blob-too-big', `${file}: ${read.tooBig} bytes is too big for a JSON document`);
    const { bytes } = read;
    if (sha256Digest(bytes) !== digest) {
      await voidMarkers(file);
      throw new BlobMismatch(file, `content hashes to ${sha256Digest(bytes)}, not ${digest}`);
    }
    return bytes;
  }

  /** Reads the whole blob and checks it against its name. */
  async verifyBlob(digest: string, size?: number): Promise<void> {
    const s = await this.openBlob(digest, size);
    for await (const _ of s);
  }

  createBlobWriter(): BlobWriter {
    const file = new TempBlobFile(this.tmpName());
    const hash = createHash('sha256');
    let size = 0;
    const stream = new Writable({
      highWaterMark: 1 << 20,
      construct: (cb) => {
        // Aborted before the stream was constructed: no temp file is made at all.
        if (file.done) return cb();
        file.opening = open(file.tmp, 'wx').then((h) => ((file.fh = h), cb()), cb);
      },
      write: (chunk: Buffer, _e, cb) => {
        hash.update(chunk);
        size += chunk.length;
        writeAll(file.fh!, chunk).then(() => cb(), (e: unknown) => cb(this.writeError(e, 'a blob') as Error));
      },
      writev: (chunks, cb) => {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        for (const b of bufs) {
          hash.update(b);
          size += b.length;
        }
        writeAll(file.fh!, Buffer.concat(bufs)).then(() => cb(), (e: unknown) => cb(this.writeError(e, 'a blob') as Error));
      },
    });
    const commit = async (expected?: { digest?: string; size?: number }) => {
      if (file.done) throw new Error('blob writer already finished');
      if (!stream.writableFinished) await new Promise<void>((res, rej) => stream.end(() => res()).once('error', rej));
      return this.commitTemp(file, expected, async (fh) => {
        // The bytes hashed must be the bytes on disk: never name a file by a digest it does not have.
        const onDisk = (await fh.stat()).size;
        if (onDisk !== size) throw new BlobMismatch(file.tmp, `${onDisk} bytes on disk after writing ${size}`);
        return { digest: `sha256:${hash.digest('hex')}`, size };
      });
    };
    return { stream, commit, abort: () => file.abort() };
  }

  /**
   * The end both blob writers share: fsync the temp file, let `measure` name its bytes, close it and place it under
   * its digest; on any failure the temp file is removed and the error says what was being written.
   */
  private async commitTemp(
    file: TempBlobFile,
    expected: { digest?: string; size?: number } | undefined,
    measure: (fh: FileHandle) => Promise<{ digest: string; size: number }>,
  ): Promise<{ digest: string; size: number }> {
    if (file.done || !file.fh) throw new Error('blob writer already finished');
    try {
      await file.fh.sync();
      const { digest, size } = await measure(file.fh);
      await file.fh.close();
      file.fh = undefined;
      await this.place(file.tmp, digest, size, expected);
      file.done = true;
      return { digest, size };
    } catch (e) {
      await file.abort();
      throw this.writeError(e, 'a blob');
    }
  }

  /** Names a complete, fsynced temp file by its digest (after checking `expected`), or drops it for a known-good copy. */
  private async place(tmp: string, digest: string, size: number, expected?: { digest?: string; size?: number }): Promise<void> {
    if (expected?.size !== undefined && expected.size !== size) throw new BlobMismatch(`blob ${expected.digest ?? digest}`, `${size} bytes, expected ${expected.size}`);
    if (expected?.digest !== undefined && expected.digest !== digest) throw new BlobMismatch(`blob ${expected.digest}`, `content hashes to ${digest}`);
    const target = this.blobPath(digest);
    // A blob already here is kept only if it is known good; else these freshly hashed bytes replace it.
    if (await markerValid(this.markers, target, digest, size)) await rm(tmp, { force: true });
    else {
      await rename(tmp, target).catch(async (e: unknown) => {
        // A folder (or a file below: blobs/sha256 made a file) where the blob goes is none of the store's own making,
        // and never removed here: said, naming it (was: error[internal] EISDIR).
        const code = errnoCode(e);
        if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
        const st = await stat(target).catch(() => undefined);
        throw new GamelayerError(
          'store.blob-corrupt',
          `${target}: ${st ? kindOf(st) : `cannot be written (${code})`}, where the blob ${digest} goes`,
          'the store holds only blob files under blobs/sha256: move that away, then run gamelayer build again',
        );
      });
      await syncDir(path.dirname(target));
      await markVerified(this.markers, target, digest);
    }
  }

  /** A fresh name in the store's temp folder (for a helper file such as a named pipe): swept once its process is gone. */
  tempPath(): string {
    return this.tmpName();
  }

  /**
   * A blob that another writer (a compressor process) writes into a temp file through `handle`. `commit` hashes the
   * file as it is on disk, so the digest is always that of the stored bytes, whatever the writer did.
   */
  async createFileBlobWriter(): Promise<FileBlobWriter> {
    const file = new TempBlobFile(this.tmpName());
    const handle = await open(file.tmp, 'wx+').catch((e: unknown) => {
      throw this.writeError(e, 'a blob');
    });
    file.fh = handle;
    const commit = (expected?: { digest?: string; size?: number }, hashFile?: (fd: number) => Promise<{ digest: string; size: number }>) =>
      this.commitTemp(file, expected, (fh) => (hashFile ? hashFile(fh.fd) : hashHandle(fh)));
    return { handle, path: path.resolve(file.tmp), size: () => fstatSync(handle.fd).size, commit, abort: () => file.abort() };
  }

  /** Stores a stream as a blob; with `expected`, a mismatch is an error and nothing is stored. */
  async putBlob(content: Readable | AsyncIterable<Uint8Array>, expected?: { digest?: string; size?: number }): Promise<{ digest: string; size: number }> {
    if (expected?.digest && (await markerValid(this.markers, this.blobPath(expected.digest), expected.digest, expected.size))) {
      // Already here under its digest; nothing to write. Drain a stream so its producer is not left hanging.
      if ('destroy' in content) (content as Readable).destroy();
      // With a size, the marker's check compared it with the file's already.
      return { digest: expected.digest, size: expected.size ?? (await stat(this.blobPath(expected.digest))).size };
    }
    const w = this.createBlobWriter();
    try {
      // A stream longer than the size it should have (a registry sending a blob without end) stops at the first
      // byte past it: checking only once it ended let it fill the disk first.
      if (expected?.size !== undefined) await pipeline(content, sizeBound(expected.size, `blob ${expected.digest ?? '(new)'}`), w.stream);
      else await pipeline(content, w.stream);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit(expected);
  }

  /** Stores exact bytes (a manifest, config, index: the digest is of these bytes, so never re-serialise). */
  async putJson(bytes: Uint8Array | string, mediaType: string): Promise<Descriptor> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
    // Its digest first (the bytes are small): one already here and known good is not written, fsynced and dropped
    // again (a no-op build stores every image's config and manifest anew), and needs no stream made for it.
    const expected = { digest: sha256Digest(buf), size: buf.length };
    if (await markerValid(this.markers, this.blobPath(expected.digest), expected.digest, expected.size)) return { mediaType, ...expected };
    const { digest, size } = await this.putBlob(Readable.from([buf]), expected);
    return { mediaType, digest, size };
  }

  /**
   * The store as a sink of the image model: every blob of `image` not already known good here, verified as it
   * streams in (from any source: another layout, a registry, a base image), then its manifests (children before an
   * index), then the tag. Returns the descriptor of the top manifest.
   */
  async putImage(image: AnyImage, tag?: string, annotations: Record<string, string> = {}): Promise<Descriptor> {
    for (const p of platformImages(image)) {
      for (const b of blobsOf(p)) {
        if ((await this.checkBlob(b.digest, b.size)).status === 'ok') continue;
        await this.putBlob(b.open(), { digest: b.digest, size: b.size });
      }
    }
    for (const m of [...childManifests(image), image]) await this.putJson(m.bytes, m.descriptor.mediaType);
    const top: Descriptor = { mediaType: image.descriptor.mediaType, digest: image.descriptor.digest, size: image.descriptor.size };
    if (tag !== undefined) await this.tag(tag, top, annotations);
    return top;
  }

  get indexPath(): string {
    return path.join(this.dir, 'index.json');
  }

  readIndex(): Promise<ImageIndex> {
    return readLayoutIndex(this.dir);
  }

  /** Points `name` at `desc` (replacing what it pointed at), via the ref.name annotation in index.json (plus `annotations`). */
  async tag(name: string, desc: Descriptor, annotations: Record<string, string> = {}): Promise<void> {
    await this.tagMany([{ name, descriptor: desc, annotations }]);
  }

  /**
   * Points each name at its descriptor in ONE change of index.json (a build's tags: one durable write, not one per
   * tag), and none at all when every name already points exactly there (a no-op build: no lock taken, nothing
   * written). Every descriptor's blob must be in the store.
   */
  async tagMany(tags: readonly StoreTag[]): Promise<void> {
    for (const { name } of tags) {
      if (!/^[A-Za-z0-9_.:/@+-]+$/.test(name) || name.length > 255) {
        throw new GamelayerError('store.tag', `"${name}" is not a valid tag (letters, digits, . _ - : / @ +; at most 255)`);
      }
    }
    const present = await Promise.all(tags.map((t) => this.hasBlob(t.descriptor.digest, t.descriptor.size)));
    const absent = tags.find((_, i) => !present[i]);
    if (absent) {
      throw new GamelayerError('store.blob-missing', `cannot tag ${absent.name}: blob ${absent.descriptor.digest} (${absent.descriptor.size} bytes) is not in ${this.dir}`);
    }
    const entries = new Map(tags.map(({ name, descriptor: d, annotations }): [string, Descriptor] => [
      name,
      {
        mediaType: d.mediaType,
        digest: d.digest,
        size: d.size,
        ...(d.artifactType ? { artifactType: d.artifactType } : {}),
        ...(d.platform ? { platform: d.platform } : {}),
        annotations: { ...annotations, [REF_NAME]: name },
      },
    ]));
    await this.updateIndex((index) => {
      const others = index.manifests.filter((m) => !entries.has(m.annotations?.[REF_NAME] ?? '\uffff'));
      return { ...index, manifests: sortManifests([...others, ...entries.values()]) };
    });
  }

  async resolve(name: string): Promise<Descriptor | undefined> {
    const index = await this.readIndex();
    return index.manifests.find((m) => m.annotations?.[REF_NAME] === name);
  }

  async tags(): Promise<string[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((m) => (m.annotations?.[REF_NAME] !== undefined ? [m.annotations[REF_NAME]] : []));
  }

  /**
   * Read-modify-write of index.json under the store lock; the new file replaces the old atomically. A change that
   * leaves the index as it is (a no-op build tags what its tags name already) writes nothing and takes no lock:
   * index.json is only ever replaced whole, so the index read without the lock is one that was there, and the
   * change was a no-op on it.
   */
  async updateIndex(change: (index: ImageIndex) => ImageIndex): Promise<void> {
    if (unchangedBy(await this.readIndex(), change)) return;
    const release = await acquireLock(`${this.indexPath}.lock`);
    try {
      const current = await this.readIndex();
      const next = change(current);
      if (serializeIndex(next) === serializeIndex(current)) return;
      const present = await Promise.all(next.manifests.map((m) => this.hasBlob(m.digest, m.size)));
      const absent = next.manifests.find((_, i) => !present[i]);
      if (absent) throw new GamelayerError('store.blob-missing', `${this.indexPath}: would point at ${absent.digest}, which is not in the store`);
      await writeFileAtomic(this.indexPath, serializeIndex(next), { tmpDir: this.tmpDir, writeError: (e) => this.writeError(e, 'index.json') });
    } finally {
      await release();
    }
  }
}

/** A tag to set with `OciStore.tagMany`: the name, what it points at, and the annotations of its index.json entry. */
export interface StoreTag {
  name: string;
  descriptor: Descriptor;
  annotations?: Record<string, string>;
}

/** Whether `change` gives back `index` as it is (compared as written: the same bytes). */
function unchangedBy(index: ImageIndex, change: (index: ImageIndex) => ImageIndex): boolean {
  const before = serializeIndex(index);
  return serializeIndex(change(index)) === before;
}

function sortManifests(ms: Descriptor[]): Descriptor[] {
  const key = (m: Descriptor) => `${m.annotations?.[REF_NAME] ?? '\uffff'}\u0000${m.digest}`;
  return ms.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** index.json as written by the store: stable key order, two-space indent (people read this file). */
export function serializeIndex(index: ImageIndex): string {
  const ordered = {
    schemaVersion: index.schemaVersion,
    mediaType: index.mediaType ?? INDEX_MEDIA_TYPE,
    ...(index.artifactType ? { artifactType: index.artifactType } : {}),
    manifests: index.manifests,
    ...(index.subject ? { subject: index.subject } : {}),
    ...(index.annotations ? { annotations: index.annotations } : {}),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** Passes a stream on while it holds at most `size` bytes; one byte more fails it (BlobMismatch, naming `where`). */
function sizeBound(size: number, where: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > size) return cb(new BlobMismatch(where, `more than ${size} bytes`));
      cb(null, chunk);
    },
  });
}
