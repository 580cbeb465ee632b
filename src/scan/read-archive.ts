// Reads a tar or tar.gz tree source as a stream (never extracted to disk): entries, modes, link
// targets and content hashes in one pass. Paths that could escape the tree are rejected.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { GamelayerError } from '../errors.js';
import type { FileEntry } from '../types.js';
import { createXxh64 } from './hash.js';
import { globMatcher } from '../util/glob-match.js';
import { tarExtract } from '../util/tar-extract.js';
import { linksLeavingTree, resolveLink } from './link-resolve.js';
import { normalizeMode } from './manifest.js';
import { fileTooBig } from './size-limit.js';
import { assertLayerSafeName, type Filters } from './walk-dir.js';

export type ArchiveCompression = 'none' | 'gzip';

/** Detects tar.gz by its magic bytes and plain tar by the ustar magic, whatever the file is called. */
export async function sniffArchive(file: string): Promise<ArchiveCompression | undefined> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
    if (bytesRead >= 262 && buf.toString('latin1', 257, 262) === 'ustar') return 'none';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Streams a tar or tar.gz file, gunzipped as `compression` says, into `extract`; settles when the archive is read. */
export async function pipeArchive(file: string, compression: ArchiveCompression, extract: NodeJS.WritableStream): Promise<void> {
  const input = createReadStream(file);
  if (compression === 'gzip') await pipeline(input, createGunzip(), extract);
  else await pipeline(input, extract);
}

/**
 * A member's bytes hashed with xxh64 as they go by (`also` sees each chunk too: the sbom's sha256, the progress):
 * its size and xxh64 once it ends. The caller hears the stream's errors.
 */
export async function memberXxh64(stream: { on(event: 'data' | 'end', listener: (chunk?: unknown) => void): unknown }, also?: (chunk: Buffer) => void): Promise<{ size: number; xxh64: string }> {
  const h = await createXxh64();
  let size = 0;
  return new Promise((resolve) => {
    stream.on('data', (chunk) => {
      const c = chunk as Buffer;
      h.update(c);
      also?.(c);
      size += c.length;
    });
    stream.on('end', () => resolve({ size, xxh64: h.digest() }));
  });
}

/** Normalises an archive member name to a tree-relative POSIX path; throws on absolute or `..` paths. */
export function archivePath(archive: string, label: string, name: string): string | undefined {
  if (name.startsWith('/') || name.split('/').includes('..')) {
    throw new GamelayerError(
      'scan.archive-unsafe-path',
      `${label}: ${archive} holds the entry "${name}", which points outside the tree`,
      'rebuild the archive with relative paths (tar -C DIR -czf FILE .)',
    );
  }
  if (name.includes('\uFFFD')) {
    throw new GamelayerError(
      'scan.non-utf8-name',
      `${label}: ${archive} holds the entry "${name}", whose name is not valid UTF-8`,
      'rename the file to a UTF-8 name: OCI layers and registries need UTF-8 paths',
    );
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  const long = parts.find((p) => Buffer.byteLength(p) > NAME_MAX);
  if (long !== undefined) {
    throw new GamelayerError(
      'scan.name-too-long',
      `${label}: ${archive} holds the entry "${name}", whose name "${long.slice(0, 40)}…" is ${Buffer.byteLength(long)} bytes; ` +
        `Linux file systems allow at most ${NAME_MAX}`,
      'shorten the name: no container runtime could unpack a layer holding it',
    );
  }
  if (parts.length) assertLayerSafeName(parts.join('/'), `${label}: ${archive} holds "${name}"`);
  return parts.length ? parts.join('/') : undefined;
}

/** Longest file name (one path component) in bytes on Linux file systems (ext4, xfs, overlayfs). */
export const NAME_MAX = 255;

/**
 * Refuses a symlink whose target is empty (`tar -x` cannot create it), absolute, or climbs above the tree's
 * root: inside the image it would point at whatever lies outside the tree's mount, and anything that later
 * copies or writes through it escapes. Chains through other links are checked once the whole archive is read.
 */
export function assertLinkInside(archive: string, label: string, entryPath: string, target: string): void {
  if (target === '') {
    throw new GamelayerError(
      'scan.archive-empty-link',
      `${label}: ${archive} holds the symlink "${entryPath}" with an empty target, which no file system can hold (tar -x fails on it)`,
      'give the link a target, or leave it out of the archive',
    );
  }
  const r = resolveLink(entryPath, target, new Map());
  if (!r.inside) throw linkOutside(archive, label, entryPath, target);
}

function linkOutside(archive: string, label: string, entryPath: string, target: string, via?: string, loop = false): GamelayerError {
  const how = loop ? `, which loops through the symlink "${via}"` : `, which points outside the tree${via ? ` through the symlink "${via}"` : ''}`;
  return new GamelayerError(
    'scan.archive-link-outside',
    `${label}: ${archive} holds the symlink "${entryPath}" -> "${target}"${how}`,
    'make the link relative and inside the tree, or leave it out of the archive',
  );
}

/** A member size no archive of this size can hold (a corrupt or hostile PAX `size`): refused before reading on. */
function assertSaneSize(archive: string, label: string, name: string, size: number, archiveBytes: number | undefined): void {
  if (Number.isSafeInteger(size) && size >= 0 && (archiveBytes === undefined || size <= archiveBytes)) return;
  throw new GamelayerError(
    'scan.archive-corrupt',
    `${label}: ${archive} holds the entry "${name}" with a size of ${String(size)} bytes, more than the archive itself holds`,
    'the archive is corrupt or truncated; copy or build it again',
  );
}

export async function readArchive(
  file: string,
  compression: ArchiveCompression,
  filters: Filters,
  label: string,
  onBytes?: (n: number) => void,
  maxFileBytes?: number,
): Promise<FileEntry[]> {
  const included = globMatcher(filters.include);
  const excluded = globMatcher(filters.exclude);
  const wanted = (p: string) => included(p) && !excluded(p);
  // The tree as `tar -x` of the whole archive would leave it; only wanted entries go into the manifest.
  const tree = new ArchiveTree(file, label);
  const byPath = new Map<string, FileEntry>();
  // Loaded when an archive is read, not with the module (util/tar-extract.ts).
  const extract = await tarExtract();
  // Only a plain tar's size bounds a member; a gzip member may be up to ~1000 times the archive.
  const archiveBytes = compression === 'none' ? (await stat(file)).size : undefined;

  extract.on('entry', (header, stream, next) => {
    let settled = false;
    const done = (e?: unknown) => {
      if (settled) return;
      settled = true;
      if (e) extract.destroy(e as Error);
      else next();
    };
    // Heard before anything else: a truncated member errors its stream at once, and an unheard stream error
    // ends the process with a stack trace instead of a scan error naming the archive.
    stream.on('error', (e) => done(e));
    try {
      assertSaneSize(file, label, header.name, header.size ?? 0, archiveBytes);
      const p = archivePath(file, label, header.name);
      if (p === undefined) {
        stream.on('end', () => done()).resume();
        return;
      }
      const skip = !wanted(p);
      const mode = header.mode ?? 0o644;
      const put = (e: FileEntry) => (skip ? byPath.delete(p) : byPath.set(p, e));
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          if (!skip && maxFileBytes !== undefined && (header.size ?? 0) > maxFileBytes) {
            throw fileTooBig(label, `${file}:${header.name}`, header.size ?? 0, maxFileBytes);
          }
          tree.place(p, 'file', header.name);
          // Excluded files are hashed too: a later hard link may name one and carry its content.
          void memberXxh64(stream, (c) => onBytes?.(c.length)).then(({ size, xxh64 }) => {
            const e: FileEntry = { path: p, type: 'file', mode: normalizeMode('file', mode), size, xxh64 };
            tree.setContent(p, e);
            put(e);
            done();
          }, done);
          return;
        }
        case 'directory':
          tree.place(p, 'dir', header.name);
          put({ path: p, type: 'dir', mode: normalizeMode('dir', mode), size: 0 });
          break;
        case 'symlink': {
          const target = header.linkname ?? '';
          tree.place(p, 'symlink', header.name);
          if (!skip) assertLinkInside(file, label, p, target);
          put({ path: p, type: 'symlink', mode: 0o777, size: 0, linkTarget: target });
          break;
        }
        case 'link': {
          // A hard link takes the content its target holds at this point of the archive (a later member of the
          // target's name replaces that name only), whether the target is included or not: as `tar -x` leaves it.
          const target = archivePath(file, label, header.linkname ?? '');
          const t = target === undefined ? undefined : tree.contentOf(target);
          if (!t) {
            throw new GamelayerError(
              'scan.archive-bad-link',
              `${label}: ${file} holds the hard link "${header.name}" to "${header.linkname}", which is not a file earlier in the archive`,
            );
          }
          tree.place(p, 'file', header.name);
          const e: FileEntry = { ...t, path: p, mode: normalizeMode('file', mode) };
          tree.setContent(p, e);
          put(e);
          break;
        }
        default:
          if (!skip) {
            throw new GamelayerError(
              'scan.special-file',
              `${label}: ${file} holds "${header.name}", a ${header.type}; a container layer cannot hold it`,
              'rebuild the archive without it, or exclude it in gamelayer.yaml',
            );
          }
          tree.place(p, 'other', header.name);
          byPath.delete(p);
      }
      stream.on('end', () => done()).resume();
    } catch (e) {
      done(e);
    }
  });

  try {
    await pipeArchive(file, compression, extract);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError(
      'scan.archive-corrupt',
      `${label}: ${file} is not a readable ${compression === 'gzip' ? 'tar.gz' : 'tar'} archive: ${(e as Error).message}`,
      'the archive is corrupt or truncated; copy or build it again',
      { cause: e },
    );
  }
  // Links are judged on the final tree: a link may lead outside only through another link, in any order.
  const leaving = linksLeavingTree(byPath.values())[0];
  if (leaving) {
    const r = leaving.resolution;
    throw linkOutside(file, label, leaving.path, leaving.target, r.via, r.why === 'loop');
  }
  return [...byPath.values()];
}

type Kind = 'file' | 'dir' | 'symlink' | 'other';

/**
 * The shape `tar -x` gives the archive, member by member: a later member replaces an earlier one of the same
 * (normalised) name, an empty directory included. What `tar -x` cannot do, or does only by writing through a
 * link, is refused naming the member: replacing a directory that holds entries, and a member below a file or
 * below a symlink.
 */
class ArchiveTree {
  private readonly kinds = new Map<string, Kind>();
  private readonly nonEmpty = new Set<string>();
  private readonly contents = new Map<string, FileEntry>();

  constructor(
    private readonly archive: string,
    private readonly label: string,
  ) {}

  place(p: string, kind: Kind, member: string): void {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const dir = p.slice(0, i);
      const k = this.kinds.get(dir);
      this.nonEmpty.add(dir);
      if (k === 'dir') break; // its own parents were checked when it was placed
      if (k === undefined) {
        this.kinds.set(dir, 'dir');
        continue;
      }
      throw new GamelayerError(
        'scan.archive-conflict',
        `${this.label}: ${this.archive} holds "${member}" below "${dir}", which is ${k === 'symlink' ? 'a symlink: the member would be written through the link' : 'not a directory'}`,
        'rebuild the archive with the member at its real path (tar -C DIR -czf FILE .)',
      );
    }
    const had = this.kinds.get(p);
    if (had === 'dir' && kind !== 'dir' && this.nonEmpty.has(p)) {
      throw new GamelayerError(
        'scan.archive-conflict',
        `${this.label}: ${this.archive} holds "${member}", a ${kind === 'other' ? 'special file' : kind} that replaces the directory "${p}" and its entries (tar -x fails on it)`,
        'rebuild the archive without the earlier directory or without this member',
      );
    }
    this.kinds.set(p, kind);
    this.contents.delete(p);
  }

  setContent(p: string, e: FileEntry): void {
    this.contents.set(p, e);
  }

  contentOf(p: string): FileEntry | undefined {
    return this.contents.get(p);
  }
}
