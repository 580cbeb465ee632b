// Walks a directory tree with fast-glob: never follows symlinks, stats every entry once, rejects what
// a layer cannot faithfully hold (special files, names that are not UTF-8).
import type { Stats } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import picomatch from 'picomatch';
import { GamelayerError } from '../errors.js';
import type { EntryType } from '../types.js';

export interface WalkedEntry {
  path: string;
  type: EntryType;
  rawMode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  linkTarget?: string;
}

export interface Filters {
  include: string[];
  exclude: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function walkDir(root: string, filters: Filters, label: string): Promise<WalkedEntry[]> {
  const found = (await fg(filters.include, {
    cwd: root,
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
    stats: true,
    ignore: filters.exclude,
    unique: true,
    suppressErrors: false,
  })) as unknown as { path: string; stats: Stats }[];

  const entries: WalkedEntry[] = [];
  const dirs = [''];
  for (const { path: rel, stats } of found) {
    const type = entryType(stats);
    if (!type) {
      throw new GamelayerError(
        'scan.special-file',
        `${label}: ${path.join(root, rel)} is a ${specialKind(stats)}; a container layer cannot hold it`,
        'remove it from the tree or add it to the tree\'s exclude globs in gamelayer.yaml',
      );
    }
    if (type === 'dir') dirs.push(rel);
    assertNotWhiteoutName(rel, `${label}: ${path.join(root, rel)}`);
    entries.push({
      path: rel,
      type,
      rawMode: stats.mode,
      size: type === 'file' ? stats.size : 0,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
      ino: stats.ino,
      linkTarget: type === 'symlink' ? await readlink(path.join(root, rel)) : undefined,
    });
  }
  await assertUtf8Names(root, dirs, filters, label);
  return entries;
}

function entryType(s: Stats): EntryType | undefined {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  return undefined;
}

function specialKind(s: Stats): string {
  if (s.isFIFO()) return 'FIFO (named pipe)';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  if (s.isBlockDevice()) return 'block device';
  return 'special file';
}

/**
 * fast-glob decodes names as UTF-8 and silently drops a whole directory listing when a name does not
 * round-trip. Read each walked directory's names as bytes and fail clearly instead of losing files.
 */
async function assertUtf8Names(root: string, dirs: string[], filters: Filters, label: string): Promise<void> {
  const excluded = filters.exclude.length ? picomatch(filters.exclude, { dot: true }) : () => false;
  for (const dir of dirs) {
    const names = await readdir(path.join(root, dir), { encoding: 'buffer' });
    for (const name of names) {
      try {
        utf8.decode(name);
      } catch {
        const shown = path.join(dir, name.toString('latin1'));
        if (excluded(path.posix.join(dir, name.toString('utf8')))) continue;
        throw new GamelayerError(
          'scan.non-utf8-name',
          `${label}: ${path.join(root, dir)} holds a name that is not valid UTF-8 (bytes: ${name.toString('hex')}, shown as "${shown}")`,
          'rename the file to a UTF-8 name: OCI layers and registries need UTF-8 paths',
        );
      }
    }
  }
}

/** OCI layers use `.wh.` names to delete files of lower layers: a game file so named would vanish. */
export function assertNotWhiteoutName(rel: string, where: string): void {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (name.startsWith('.wh.')) {
    throw new GamelayerError(
      'scan.whiteout-name',
      `${where}: names starting with ".wh." are reserved for OCI whiteouts; a layer cannot hold this file`,
      'rename it, or exclude it in gamelayer.yaml',
    );
  }
}
