// Deterministic tar of one planned layer: the same entries and content give the same bytes on any
// machine, whatever the umask, mtimes, owner or file system order of the source.
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { compareBytewise } from '../scan/manifest.js';
import { isPendingHash } from '../scan/pending.js';
import { eachEntry } from '../entries/packed-list.js';
import type { MountParents } from '../plan/mount-parents.js';
import type { FileEntry, PlannedLayer } from '../types.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../util/whiteout.js';
import { collectYoungGarbage } from '../util/young-garbage.js';
import type { ContentReader, ContentSource } from './content.js';
import { BLOCK, encodeHeader, normalizeHeader, padding, writeUstarHeader, type TarHeaderFields } from './tar-header.js';

/** Largest size the ustar header holds in octal (8 GiB - 1); bigger files get a PAX `size` record. */
export const USTAR_MAX_SIZE = 0o77777777777;

export { MAX_TAR_MTIME, sourceDateEpoch } from './source-date.js';
import { sourceDateEpoch } from './source-date.js';


/** `/opt/local/app/` → `opt/local/app`; `/` → `` (entries at the image root). */
export function mountPrefix(mount: string): string {
  const parts = mount.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new GamelayerError('layer.mount', `mount path ${mount} contains "..": it must be an absolute path inside the image`);
  }
  return parts.join('/');
}

export interface TarEntry {
  /** Path inside the image, no leading `/`, no trailing `/`. */
  name: string;
  entry: FileEntry;
  /** Owner of a folder above the mount that the base holds as another's (plan/mount-parents.ts); else root. */
  owner?: { uid: number; gid: number };
}

/** A folder above or at the mount: root 0755, or the base's owner and mode where the base has its own (mount-parents.ts). */
function mountDir(dir: string, parents: MountParents | undefined): TarEntry {
  const p = parents?.get(dir);
  return p ? { name: dir, entry: { path: dir, type: 'dir', mode: p.mode, size: 0 }, owner: { uid: p.uid, gid: p.gid } } : { name: dir, entry: { path: dir, type: 'dir', mode: 0o755, size: 0 } };
}

/**
 * Every entry of the layer as it lands in the image, plus the directories above it (the mount path's own
 * parents included, so the layer stands alone on any base): sorted bytewise, which puts parents first.
 */
export function layerTarEntries(entries: readonly FileEntry[], mount: string, tree = 'the tree', parents?: MountParents): TarEntry[] {
  const prefix = mountPrefix(mount);
  const byName = new Map<string, TarEntry>();
  const addParents = (name: string) => {
    for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
      const dir = name.slice(0, i);
      if (byName.has(dir)) break;
      byName.set(dir, mountDir(dir, parents));
    }
  };
  if (prefix) {
    byName.set(prefix, { ...mountDir(prefix, parents), entry: { ...mountDir(prefix, parents).entry, path: '' } });
    addParents(prefix);
  }
  for (const e of entries) {
    if (e.path === '' || e.path.startsWith('/') || e.path.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw new GamelayerError('layer.path', `layer entry "${e.path}" is not a clean relative path`);
    }
    const name = prefix ? `${prefix}/${e.path}` : e.path;
    assertInsideMount(name, prefix, tree, mount, e.path);
    const had = byName.get(name);
    // A directory we added as a parent gives way to the planned one (same name, its own mode).
    if (had && !(had.entry.type === 'dir' && e.type === 'dir')) {
      throw new GamelayerError('layer.duplicate', `layer lists ${e.path} twice`);
    }
    byName.set(name, { name, entry: e });
    addParents(name);
  }
  return [...byName.values()].sort((a, b) => compareBytewise(a.name, b.name));
}

/**
 * layerTarEntries as they are written, one at a time: a layer of 1M entries then never holds 1M tar names, a map of
 * them and a sorted copy. Planned layers come sorted, with every entry's folder listed before it (the planner adds
 * ancestors): checked first, in one pass that makes nothing per entry, and then the entries go out in the order
 * given. Any other list (unsorted, a folder missing) is handed to layerTarEntries, whose output this equals.
 * Errors about bad entries are thrown here, before the first entry is written, as layerTarEntries throws them.
 */
export function layerTarEntriesInOrder(entries: readonly FileEntry[], mount: string, tree = 'the tree', parents?: MountParents): Iterable<TarEntry> {
  const prefix = mountPrefix(mount);
  const dirs = new Set<string>();
  let previous: string | undefined;
  let plain = true; // paths so far hold no code unit at or above U+D800: `<` is byte order for them
  for (const e of eachEntry(entries)) {
    if (e.path === '' || e.path.startsWith('/') || e.path.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw new GamelayerError('layer.path', `layer entry "${e.path}" is not a clean relative path`);
    }
    const name = prefix ? `${prefix}/${e.path}` : e.path;
    assertInsideMount(name, prefix, tree, mount, e.path);
    plain &&= !NEEDS_CODE_POINT_ORDER.test(e.path);
    if (previous !== undefined && !(plain ? previous < e.path : compareBytewise(previous, e.path) < 0)) return layerTarEntries(entries, mount, tree, parents);
    const slash = e.path.lastIndexOf('/');
    if (slash > 0 && !dirs.has(e.path.slice(0, slash))) return layerTarEntries(entries, mount, tree, parents);
    if (e.type === 'dir') dirs.add(e.path);
    previous = e.path;
  }
  const mountDirs: TarEntry[] = [];
  if (prefix) {
    for (let i = prefix.indexOf('/'); i > 0; i = prefix.indexOf('/', i + 1)) {
      mountDirs.push(mountDir(prefix.slice(0, i), parents));
    }
    const own = mountDir(prefix, parents);
    mountDirs.push({ ...own, entry: { ...own.entry, path: '' } });
  }
  return {
    *[Symbol.iterator]() {
      yield* mountDirs;
      for (const e of eachEntry(entries)) yield { name: prefix ? `${prefix}/${e.path}` : e.path, entry: e };
    },
  };
}

/** Below U+D800, UTF-16 code unit order is UTF-8 byte order. */
const NEEDS_CODE_POINT_ORDER = /[\uD800-\uFFFF]/;

/**
 * Defence in depth (the config already refuses nested mounts): a tree's layer may add, replace or delete only
 * paths strictly inside its own mount. A whiteout `.wh.<name>` deletes `<name>` beside it, so `.wh..` or
 * `.wh...` would delete the mount itself or its parent (and with it other trees): refused like any escape.
 */
function assertInsideMount(name: string, prefix: string, tree: string, mount: string, entryPath: string): void {
  const outside = (why: string) =>
    new GamelayerError('layer.outside-mount', `${tree}: layer entry "${entryPath}" ${why}, outside the mount ${mount}`, 'a tree\'s layers may only touch paths inside its own mount; rebuild the plan from a fresh scan (gamelayer build --rebase)');
  if (prefix && !name.startsWith(`${prefix}/`)) throw outside('lands at /' + name);
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  if (!base.startsWith(WHITEOUT_PREFIX)) return;
  if (base === OPAQUE_WHITEOUT) return; // hides lower content of this folder, which is inside the mount
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..' || target.includes('/')) throw outside(`is a whiteout of "${target}"`);
}

export type TarHeader = TarHeaderFields;

/**
 * A layer entry's header, complete as normalizeHeader would make it (the writer takes it as it is: `normalized`), in
 * one object literal of one shape: per entry of a 1M-entry layer, spreads and a second normalised copy showed up.
 */
function header(t: TarEntry, mtime: Date): TarHeader {
  const e = t.entry;
  if (e.type === 'symlink' && !e.linkTarget) throw new GamelayerError('layer.symlink', `symlink ${e.path} has no target`);
  const size = e.type === 'file' ? e.size : 0;
  return {
    name: t.name,
    type: e.type === 'dir' ? 'directory' : e.type,
    mode: e.mode & 0o7777,
    size,
    mtime,
    uid: t.owner?.uid ?? 0,
    gid: t.owner?.gid ?? 0,
    uname: '',
    gname: '',
    linkname: e.type === 'symlink' ? e.linkTarget : undefined,
    pax: size > USTAR_MAX_SIZE ? { size: String(size) } : undefined,
  };
}

/**
 * Each entry of the layer with its header blocks, byte for byte as the layer writer writes them (same entries, order,
 * mount folders and mtime): what a layer cache row's blob is held against (layer-proof.ts).
 */
export function* layerTarHeaders(entries: readonly FileEntry[], mount: string, mtime: number, tree?: string, parents?: MountParents): Generator<{ name: string; entry: FileEntry; header: Buffer }> {
  const date = new Date(mtime * 1000);
  for (const t of layerTarEntriesInOrder(entries, mount, tree, parents)) yield { name: t.name, entry: t.entry, header: encodeHeader(header(t, date) as ReturnType<typeof normalizeHeader>) };
}

export interface LayerTarOptions {
  /** Where the tree lives in the image, e.g. `/opt/local/app`. */
  mount: string;
  /** mtime of every entry, seconds since 1970; defaults to sourceDateEpoch(). */
  mtime?: number;
  /** The tree whose layer this is, for messages. */
  tree?: string;
  /** The base's owner and mode of folders above the mount that are not root 0755 (plan/mount-parents.ts). */
  parents?: MountParents;
}

/** Files up to this size are read whole, straight into the tar writer's output chunk (no stream per file). */
export const SMALL_FILE = 256 * 1024;

/** The layer's tar as a stream; it errors (and never ends cleanly) if any file's content is not as scanned. */
export function layerTar(layer: Pick<PlannedLayer, 'entries'>, content: ContentSource, options: LayerTarOptions): Readable {
  return packEntries(layerPackEntries(layer, content, options, false));
}

/**
 * The layer's tar as chunks that the writer reuses: each chunk is valid only until the next one is asked for (the
 * caller copies or consumes it first). Big files are read straight into the chunks where the source allows: no
 * buffer is made per MiB, so there is no garbage to collect. Same bytes as `layerTar`.
 */
export function layerTarChunks(layer: Pick<PlannedLayer, 'entries'>, content: ContentSource, options: LayerTarOptions, pool?: ChunkPool): AsyncGenerator<Buffer> {
  return tarChunks(layerPackEntries(layer, content, options, true), undefined, true, pool);
}

/**
 * Where the tar writer takes its chunks from instead of its own (layerTarChunks): the consumer's buffers, e.g. the
 * zstd feed's shared slots, so files are read straight into what the consumer hands on (no copy of every byte).
 * A chunk handed out is the consumer's from then on: the writer never writes into it again. Every chunk but the
 * last is handed out full (`bytes` long): a file that does not fit in the rest of one is copied across the border.
 */
export interface ChunkPool {
  /** Bytes of each chunk. */
  readonly bytes: number;
  /** A chunk to write into (`bytes` long, any content): the consumer's own when it has one free, else a new one. */
  take(): Buffer;
}

function* layerPackEntries(layer: Pick<PlannedLayer, 'entries'>, content: ContentSource, options: LayerTarOptions, inPlace: boolean): Generator<PackEntry> {
  const entries = layerTarEntriesInOrder(layer.entries, options.mount, options.tree, options.parents);
  const mtime = new Date((options.mtime ?? sourceDateEpoch()) * 1000);
  const readInto = content.readInto?.bind(content);
  const reader = content.reader?.bind(content);
  // Headers are made as the writer reaches each entry, so a bad one (a symlink without target) errors the stream.
  for (const t of entries) {
    const e = t.entry;
    let body: PackEntry['body'];
    if (e.type === 'file') {
      if (readInto && e.size <= SMALL_FILE) body = { readInto: (buf, off) => readInto(e, buf, off) };
      // A file whose hash the scan left to this writer is read piece by piece into the writer's chunks (one read).
      else if (reader && (inPlace || isPendingHash(e))) body = { reader: () => reader(e) };
      else body = () => content.open(e);
    }
    yield { header: header(t, mtime), body, normalized: true };
  }
}

/** A body the writer reads straight into its output buffer: `header.size` bytes at `offset` (one spare byte after). */
export interface ReadIntoBody {
  readInto(buf: Buffer, offset: number): void | Promise<void>;
}

/** A body read piece by piece into the writer's chunks (`header.size` bytes, then the reader's check of the end). */
export interface ReaderBody {
  reader(): Promise<ContentReader>;
}

/** One tar entry to write: its header, and a file's body (bytes, read in place, or a stream opened when its turn comes). */
export interface PackEntry {
  header: TarHeader;
  /** The header has every field normalizeHeader fills in, and is this entry's own: the writer uses it as it is. */
  normalized?: boolean;
  body?: Buffer | string | ReadIntoBody | ReaderBody | (() => Promise<Readable | Buffer> | Readable | Buffer);
}

const VOID_TYPES = new Set(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/** Bytes per output chunk: many small entries share one, so downstream stages (digest, gzip) see few big writes. */
const CHUNK_BYTES = 1 << 20;
/** Stream chunks at least this big are passed on as they are rather than copied into the output chunk. */
const PASS_THROUGH = 64 * 1024;
const END_OF_TAR = 2 * BLOCK;
/** Bytes handed on between two scavenges (util/young-garbage.ts): bounds the dead buffers awaiting a GC to about this. */
const GC_EVERY_BYTES = 16 << 20;

/**
 * The one tar writer: entries in the order given, into a tar stream (byte for byte what tar-stream writes), one
 * body open at a time, written as the reader asks for more. A body that fails (e.g. content not as scanned) or an
 * entry that cannot be made destroys the stream with that error; a reader that goes away early stops the writing
 * and closes the open body.
 */
export function packEntries(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>, opts: { onBytes?: (n: number) => void } = {}): Readable {
  return Readable.from(tarChunks(entries, opts.onBytes), { objectMode: false, highWaterMark: CHUNK_BYTES });
}

/**
 * With `reuse`, a chunk handed out is taken back for later output once the consumer asks for the next one:
 * the consumer must be done with it by then (layerTarChunks).
 */
async function* tarChunks(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>, onBytes?: (n: number) => void, reuse = false, pool?: ChunkPool): AsyncGenerator<Buffer> {
  // New output chunks are zero-filled, so header fields left blank and padding need no writes. A chunk taken back
  // (with reuse) or from a pool is not zeroed whole, most of it is overwritten by file bytes: its headers' blocks and
  // padding are.
  const CHUNK = pool?.bytes ?? CHUNK_BYTES;
  /** With a pool: every chunk handed out full (see ChunkPool), none taken back. */
  const aligned = pool !== undefined;
  if (aligned) reuse = false;
  let buf = pool ? pool.take() : Buffer.alloc(CHUNK);
  let bufDirty = aligned;
  /** A small file that does not fit in the rest of a pool's chunk is read here, then copied across the border. */
  let scratch: Buffer | undefined;
  let off = 0;
  /** Output in order; `owner` is the writer's own chunk the bytes lie in (taken back once handed out, with reuse). */
  const ready: { bytes: Buffer; owner?: typeof buf }[] = [];
  const spare: (typeof buf)[] = [];
  function* emit(): Generator<Buffer> {
    while (ready.length) {
      const r = ready.shift()!;
      yield r.bytes;
      if (reuse && r.owner && spare.length < 2) spare.push(r.owner);
    }
  }
  /** Bytes handed on since the last scavenge: each chunk is dead once downstream (digest, compressor) took it. */
  let handed = 0;
  const handedOn = (n: number) => {
    handed += n;
    if (handed < GC_EVERY_BYTES) return;
    handed = 0;
    collectYoungGarbage();
  };
  /** The next chunk (the caller makes it `buf`). */
  const fresh = () => {
    if (pool) {
      bufDirty = true;
      return pool.take();
    }
    const again = spare.pop();
    bufDirty = again !== undefined;
    if (again) return again;
    handedOn(CHUNK);
    return Buffer.alloc(CHUNK);
  };
  /** Makes `n` contiguous bytes of room (n <= CHUNK) at `off`. */
  const room = (n: number) => {
    if (CHUNK - off >= n) return;
    if (off > 0) ready.push({ bytes: buf.subarray(0, off), owner: buf });
    buf = fresh();
    off = 0;
  };
  const copy = (b: Uint8Array) => {
    for (let i = 0; i < b.length; ) {
      if (off === CHUNK) room(1);
      const n = Math.min(b.length - i, CHUNK - off);
      buf.set(b.subarray(i, i + n), off);
      off += n;
      i += n;
    }
  };
  const skip = (n: number) => {
    // Zero bytes (padding): the rest of this chunk, then fresh zero chunks.
    while (n > 0) {
      if (off === CHUNK) room(1);
      const k = Math.min(n, CHUNK - off);
      if (bufDirty) buf.fill(0, off, off + k);
      off += k;
      n -= k;
    }
  };
  const passOn = (b: Buffer) => {
    if (aligned) return copy(b);
    handedOn(b.length); // a file's read buffer, as dead as a chunk once taken
    if (off > 0) ready.push({ bytes: buf.subarray(0, off), owner: buf });
    ready.push({ bytes: b });
    buf = off > 0 ? fresh() : buf;
    off = 0;
  };
  const writeHeader = (h: ReturnType<typeof normalizeHeader>) => {
    room(BLOCK);
    if (bufDirty) buf.fill(0, off, off + BLOCK);
    const n = writeUstarHeader(h, buf, off);
    if (n) off += n;
    else copy(encodeHeader(h));
  };

  for await (const e of entries) {
    const raw = e.body;
    const body = typeof raw === 'function' ? await raw() : raw;
    const h = e.normalized ? (e.header as ReturnType<typeof normalizeHeader>) : normalizeHeader({ ...e.header });
    const isVoid = VOID_TYPES.has(h.type);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      let bytes = typeof body === 'string' ? Buffer.from(body) : body;
      if (h.type === 'symlink' && !h.linkname && bytes) {
        h.linkname = bytes.toString('utf-8'); // tar-stream takes a symlink's body as its target
        bytes = undefined;
      }
      if (isVoid && bytes?.length) throw new Error(`tar entry ${h.name}: no body allowed for a ${h.type}`);
      if (!isVoid) {
        bytes ??= Buffer.alloc(0);
        if (typeof raw === 'function' && bytes.length !== h.size) throw new Error(`tar entry ${h.name}: body of ${bytes.length} bytes, header says ${h.size}`);
        h.size = bytes.length;
        onBytes?.(bytes.length);
      }
      writeHeader(h);
      if (bytes?.length) {
        if (bytes.length >= PASS_THROUGH) passOn(bytes);
        else copy(bytes);
        skip(padding(bytes.length));
      }
    } else if ('reader' in body) {
      writeHeader(h);
      onBytes?.(h.size);
      const reader = await body.reader();
      try {
        for (let left = h.size; left > 0; ) {
          room(1); // a fresh chunk once this one is full
          yield* emit();
          const n = await reader.read(buf, off, Math.min(left, CHUNK - off));
          off += n;
          left -= n;
        }
        await reader.read(buf, off, 0); // the end: nothing more, and the content hash
      } finally {
        await reader.close();
      }
      skip(padding(h.size));
    } else if ('readInto' in body) {
      writeHeader(h);
      onBytes?.(h.size);
      // The reader may write one byte past the body (to see a file that grew): that byte lies in the padding.
      const need = h.size + padding(h.size) + 1;
      if (aligned && off === CHUNK) room(1);
      if (aligned && need > CHUNK - off) {
        if (!scratch || scratch.length < h.size + 1) scratch = Buffer.allocUnsafe(Math.max(h.size + 1, SMALL_FILE + 1));
        await body.readInto(scratch, 0);
        copy(scratch.subarray(0, h.size));
      } else if (need > CHUNK) {
        const own = Buffer.allocUnsafe(h.size + 1);
        await body.readInto(own, 0);
        passOn(own.subarray(0, h.size));
      } else {
        room(need);
        await body.readInto(buf, off);
        off += h.size;
        buf.fill(0, off, Math.min(CHUNK, off + 1));
      }
      skip(padding(h.size));
    } else {
      writeHeader(h);
      let written = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          written += chunk.length;
          if (written > h.size) throw new Error(`tar entry ${h.name}: body longer than its ${h.size} bytes`);
          onBytes?.(chunk.length);
          if (chunk.length >= PASS_THROUGH) passOn(chunk);
          else copy(chunk);
          yield* emit();
        }
      } finally {
        body.destroy();
      }
      if (written !== h.size) throw new Error(`tar entry ${h.name}: Size mismatch (${written} of ${h.size} bytes)`);
      skip(padding(h.size));
    }
    yield* emit();
  }
  skip(END_OF_TAR);
  if (off > 0) ready.push({ bytes: buf.subarray(0, off) });
  yield* emit();
}
