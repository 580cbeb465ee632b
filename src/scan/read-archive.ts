// Reads a tar or tar.gz tree source as a stream (never extracted to disk): entries, modes, link
// targets and content hashes in one pass. Paths that could escape the tree are rejected.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import picomatch from 'picomatch';
import * as tar from 'tar-stream';
import { GamelayerError } from '../errors.js';
import type { FileEntry } from '../types.js';
import { createXxh64 } from './hash.js';
import { normalizeMode } from './manifest.js';
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
 * Refuses a symlink whose target is absolute or climbs above the tree's root: inside the image it would point
 * at whatever lies outside the tree's mount, and anything that later copies or writes through it escapes.
 */
export function assertLinkInside(archive: string, label: string, entryPath: string, target: string): void {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(entryPath), target));
  if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
    throw new GamelayerError(
      'scan.archive-link-outside',
      `${label}: ${archive} holds the symlink "${entryPath}" -> "${target}", which points outside the tree`,
      'make the link relative and inside the tree, or leave it out of the archive',
    );
  }
}

export async function readArchive(
  file: string,
  compression: ArchiveCompression,
  filters: Filters,
  label: string,
  onBytes?: (n: number) => void,
): Promise<FileEntry[]> {
  const included = picomatch(filters.include, { dot: true });
  const excluded = filters.exclude.length ? picomatch(filters.exclude, { dot: true }) : () => false;
  const wanted = (p: string) => included(p) && !excluded(p);
  const byPath = new Map<string, FileEntry>();
  const extract = tar.extract();

  extract.on('entry', (header, stream, next) => {
    const done = (e?: unknown) => (e ? extract.destroy(e as Error) : next());
    try {
      const p = archivePath(file, label, header.name);
      const skip = p === undefined || !wanted(p);
      const mode = header.mode ?? 0o644;
      switch (header.type) {
        case 'file':
        case 'contiguous-file': {
          if (skip) {
            stream.on('end', () => done()).resume();
            return;
          }
          void createXxh64().then((h) => {
            let size = 0;
            stream.on('data', (chunk) => {
              const c = chunk as Buffer;
              h.update(c);
              size += c.length;
              onBytes?.(c.length);
            });
            stream.on('end', () => {
              byPath.set(p, { path: p, type: 'file', mode: normalizeMode('file', mode), size, xxh64: h.digest() });
              done();
            });
            stream.on('error', done);
          }, done);
          return;
        }
        case 'directory':
          if (!skip) byPath.set(p, { path: p, type: 'dir', mode: normalizeMode('dir', mode), size: 0 });
          break;
        case 'symlink':
          if (!skip) {
            assertLinkInside(file, label, p, header.linkname ?? '');
            byPath.set(p, { path: p, type: 'symlink', mode: 0o777, size: 0, linkTarget: header.linkname ?? '' });
          }
          break;
        case 'link': {
          // A hard link repeats an earlier member's content: record it as that file.
          const target = archivePath(file, label, header.linkname ?? '');
          const t = target === undefined ? undefined : byPath.get(target);
          if (!skip) {
            if (!t || t.type !== 'file') {
              throw new GamelayerError(
                'scan.archive-bad-link',
                `${label}: ${file} holds the hard link "${header.name}" to "${header.linkname}", which is not a file earlier in the archive`,
              );
            }
            byPath.set(p, { ...t, path: p, mode: normalizeMode('file', mode) });
          }
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
      }
      stream.on('end', () => done()).resume();
    } catch (e) {
      // Destroying the extractor errors this entry's stream too; that error is the same one, reported once.
      stream.on('error', () => {});
      done(e);
    }
  });

  const input = createReadStream(file);
  try {
    if (compression === 'gzip') await pipeline(input, createGunzip(), extract);
    else await pipeline(input, extract);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError(
      'scan.archive-corrupt',
      `${label}: ${file} is not a readable ${compression === 'gzip' ? 'tar.gz' : 'tar'} archive: ${(e as Error).message}`,
      'the archive is corrupt or truncated; copy or build it again',
      { cause: e },
    );
  }
  return [...byPath.values()];
}
