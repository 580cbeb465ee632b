// Deterministic tar of one planned layer: the same entries and content give the same bytes on any
// machine, whatever the umask, mtimes, owner or file system order of the source.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { GamelayerError } from '../errors.js';
import { compareBytewise } from '../scan/manifest.js';
import type { FileEntry, PlannedLayer } from '../types.js';
import type { ContentSource } from './content.js';

/** Largest size the ustar header holds in octal (8 GiB - 1); bigger files get a PAX `size` record. */
export const USTAR_MAX_SIZE = 0o77777777777;

/**
 * The mtime every entry gets: SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else the Unix epoch.
 * A malformed value is an error rather than a silent fallback that would change every digest.
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,12}$/.test(v)) {
    throw new GamelayerError(
      'env.source-date-epoch',
      `SOURCE_DATE_EPOCH="${v}" is not a whole number of seconds since 1970`,
      'set it to e.g. $(git log -1 --format=%ct), or unset it',
    );
  }
  const n = Number(v);
  // tar-stream writes the mtime through a 32-bit integer: a later time would silently wrap (99999999999 became
  // 2008, and past 2^32 the header is unreadable). Refused rather than written wrong.
  if (n > MAX_TAR_MTIME) {
    throw new GamelayerError(
      'env.source-date-epoch',
      `SOURCE_DATE_EPOCH="${v}" is later than ${new Date(MAX_TAR_MTIME * 1000).toISOString()} (${MAX_TAR_MTIME}), the latest time gamelayer's tar headers hold`,
      'set it to e.g. $(git log -1 --format=%ct), or unset it',
    );
  }
  return n;
}

/** Latest entry mtime, in seconds since 1970, that the tar writer (tar-stream, a 32-bit field) keeps intact. */
export const MAX_TAR_MTIME = 2 ** 31 - 1;

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
}

/**
 * Every entry of the layer as it lands in the image, plus the directories above it (the mount path's own
 * parents included, so the layer stands alone on any base): sorted bytewise, which puts parents first.
 */
export function layerTarEntries(entries: readonly FileEntry[], mount: string, tree = 'the tree'): TarEntry[] {
  const prefix = mountPrefix(mount);
  const byName = new Map<string, TarEntry>();
  const addParents = (name: string) => {
    for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) {
      const dir = name.slice(0, i);
      if (byName.has(dir)) break;
      byName.set(dir, { name: dir, entry: { path: dir, type: 'dir', mode: 0o755, size: 0 } });
    }
  };
  if (prefix) {
    byName.set(prefix, { name: prefix, entry: { path: '', type: 'dir', mode: 0o755, size: 0 } });
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
  if (!base.startsWith(WHITEOUT)) return;
  const target = base.slice(WHITEOUT.length);
  if (target === OPAQUE_SUFFIX) return; // `.wh..wh..opq`: hides lower content of this folder, which is inside the mount
  if (target === '' || target === '.' || target === '..' || target.includes('/')) throw outside(`is a whiteout of "${target}"`);
}

const WHITEOUT = '.wh.';
const OPAQUE_SUFFIX = '.wh..opq';

export type TarHeader = Parameters<tar.Pack['entry']>[0];

function header(t: TarEntry, mtime: Date): TarHeader {
  const e = t.entry;
  const common = { name: t.name, mode: e.mode & 0o7777, mtime, uid: 0, gid: 0, uname: '', gname: '' };
  switch (e.type) {
    case 'dir':
      return { ...common, type: 'directory', size: 0 };
    case 'symlink':
      if (!e.linkTarget) throw new GamelayerError('layer.symlink', `symlink ${e.path} has no target`);
      return { ...common, type: 'symlink', size: 0, linkname: e.linkTarget };
    case 'file':
      return {
        ...common,
        type: 'file',
        size: e.size,
        ...(e.size > USTAR_MAX_SIZE ? { pax: { size: String(e.size) } } : {}),
      };
  }
}

export interface LayerTarOptions {
  /** Where the tree lives in the image, e.g. `/opt/local/app`. */
  mount: string;
  /** mtime of every entry, seconds since 1970; defaults to sourceDateEpoch(). */
  mtime?: number;
  /** The tree whose layer this is, for messages. */
  tree?: string;
}

/** The layer's tar as a stream; it errors (and never ends cleanly) if any file's content is not as scanned. */
export function layerTar(layer: Pick<PlannedLayer, 'entries'>, content: ContentSource, options: LayerTarOptions): Readable {
  const entries = layerTarEntries(layer.entries, options.mount, options.tree);
  const mtime = new Date((options.mtime ?? sourceDateEpoch()) * 1000);
  // Headers are made as the writer reaches each entry, so a bad one (a symlink without target) errors the stream.
  function* packed(): Generator<PackEntry> {
    for (const t of entries) yield { header: header(t, mtime), body: t.entry.type === 'file' ? () => content.open(t.entry) : undefined };
  }
  return packEntries(packed());
}

/** One tar entry to write: its header, and a file's body (bytes, or a stream opened when its turn comes). */
export interface PackEntry {
  header: TarHeader;
  body?: Buffer | string | (() => Promise<Readable> | Readable);
}

const VOID_TYPES = new Set(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/**
 * The one tar writer: entries in the order given, into a tar stream, one body open at a time and written with
 * backpressure. A body that fails (e.g. content not as scanned) or an entry that cannot be made destroys the stream
 * with that error; a reader that goes away early stops the writing and closes the open body.
 */
export function packEntries(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>, opts: { onBytes?: (n: number) => void } = {}): Readable {
  const pack = tar.pack();
  // The reader may go away early (the compressor or the disk failed): stop then, and close the open file,
  // instead of waiting forever for a 'drain' that never comes.
  const gone = new AbortController();
  pack.once('close', () => gone.abort());
  const whilePackOpen = <T>(p: Promise<T>): Promise<T> =>
    gone.signal.aborted
      ? Promise.reject(new Error('tar stream closed early'))
      : new Promise<T>((resolve, reject) => {
          const stop = () => reject(new Error('tar stream closed early'));
          gone.signal.addEventListener('abort', stop, { once: true });
          p.then(resolve, reject).finally(() => gone.signal.removeEventListener('abort', stop));
        });

  const writeAll = async () => {
    for await (const e of entries) {
      if (gone.signal.aborted) return;
      if (typeof e.body !== 'function') {
        const bytes = e.body ?? (VOID_TYPES.has(e.header.type ?? '') ? undefined : Buffer.alloc(0));
        if (bytes !== undefined) opts.onBytes?.(Buffer.byteLength(bytes));
        await whilePackOpen(
          new Promise<void>((resolve, reject) => {
            const done = (err?: Error | null) => (err ? reject(err) : resolve());
            if (bytes === undefined) pack.entry(e.header, done);
            else pack.entry(e.header, bytes, done);
          }),
        );
        continue;
      }
      const body = await e.body();
      let finished!: Promise<void>;
      const sink = (() => {
        let s!: ReturnType<typeof pack.entry>;
        finished = new Promise<void>((resolve, reject) => {
          s = pack.entry(e.header, (err) => (err ? reject(err) : resolve()));
        });
        return s;
      })();
      // If the body fails, the pack is destroyed, which errors the entry too: the pack reports that error once.
      finished.catch(() => {});
      sink.on('error', () => {});
      try {
        for await (const chunk of body) {
          opts.onBytes?.((chunk as Buffer).length);
          if (!sink.write(chunk as Buffer)) await whilePackOpen(once(sink as unknown as NodeJS.EventEmitter, 'drain'));
        }
      } catch (err) {
        body.destroy();
        throw err;
      }
      sink.end(undefined as unknown as Buffer);
      await whilePackOpen(finished);
    }
    pack.finalize();
  };
  writeAll().catch((e: unknown) => pack.destroy(e as Error));
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}
