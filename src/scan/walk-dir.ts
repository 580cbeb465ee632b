// Walks a directory tree with readdir, matching the tree's globs itself (util/glob-match.ts: fast-glob's matcher
// dropped names holding a newline): never follows symlinks, stats every entry once, rejects what a layer cannot
// faithfully hold (special files, non-UTF-8 names, paths longer than Linux allows).
import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { globBase, globMatcher, type PathMatcher } from '../util/glob-match.js';
import { WHITEOUT_PREFIX } from '../util/whiteout.js';
import { globLeavesTree } from '../config/schema.js';
import { GamelayerError, errnoCode } from '../errors.js';
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
/** lstat's options, made once: the walk passes them for every entry. */
const NO_THROW = { throwIfNoEntry: false } as const;
/** Linux's PATH_MAX less the terminating NUL: no system call takes a longer path. */
const PATH_MAX_BYTES = 4095;
/** Below this many UTF-16 units a path cannot exceed PATH_MAX_BYTES (3 UTF-8 bytes per unit at most). */
const PATH_SAFE_UNITS = Math.floor(PATH_MAX_BYTES / 3);

export async function walkDir(root: string, filters: Filters, label: string): Promise<WalkedEntry[]> {
  const entries: WalkedEntry[] = [];
  await walkDirEach(root, filters, label, (w) => void entries.push(w));
  return entries;
}

/**
 * walkDir handing each entry to `visit` as it is found, in the same order, instead of collecting them: a scan of 1M
 * files then never holds 1M walk records (with their Dirents) beside the entries it makes of them.
 */
export async function walkDirEach(root: string, filters: Filters, label: string, visit: (w: WalkedEntry) => void): Promise<void> {
  // The config refuses such globs at their line; a library caller passing filters directly is held here.
  const leaving = [...filters.include, ...filters.exclude].find(globLeavesTree);
  if (leaving !== undefined) {
    throw new GamelayerError('scan.glob-outside', `${label}: the glob "${leaving}" reaches outside the tree ${root}`, 'write globs relative to the tree, without ".." or a leading "/"');
  }
  // The listed paths are already normal and relative: a concatenation, not path.join, per entry.
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  // Names that did not decode as UTF-8 show up with U+FFFD: their folders are checked byte by byte below.
  const suspect = new Set<string>();
  const found = (rel: string, isDirectory: boolean) => {
    if (rel.includes('\uFFFD')) {
      const slash = rel.lastIndexOf('/');
      suspect.add(slash > 0 ? rel.slice(0, slash) : '');
    }
    if (!isLayerSafeName(rel)) assertLayerSafeName(rel, `${label}: ${prefix + rel}`);
    if (prefix.length + rel.length > PATH_SAFE_UNITS) assertPathFits(prefix + rel, label);
    if (isDirectory) {
      visit({ path: rel, type: 'dir', rawMode: 0o755, size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0, linkTarget: undefined });
      return;
    }
    const full = prefix + rel;
    // Metadata from a synchronous lstat per entry: for cached inodes several times faster than async lstats
    // queued through libuv's thread pool. No exception for a vanished entry (cheaper than a throw and catch).
    const stats = lstatSync(full, NO_THROW);
    if (stats === undefined) return; // removed since the listing: it is not part of this scan
    const type = entryType(stats);
    if (!type) {
      throw new GamelayerError(
        'scan.special-file',
        `${label}: ${full} is a ${specialKind(stats)}; a container layer cannot hold it`,
        'remove it from the tree or add it to the tree\'s exclude globs in gamelayer.yaml',
      );
    }
    visit({
      path: rel,
      type,
      rawMode: stats.mode,
      size: type === 'file' ? stats.size : 0,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
      ino: stats.ino,
      linkTarget: type === 'symlink' ? readlinkSync(full) : undefined,
    });
  };
  // Names and types come from readdir (no stat). Sync: listing cached directories costs less than handing each
  // readdir to the thread pool.
  listEntries(root, label, found, takesEverything(filters) ? undefined : globFilter(filters));
  await assertUtf8Names(root, [...suspect], filters, label);
}

/** The default filters (`include: ['**']`, no exclude): every entry, which needs no pattern matching at all. */
function takesEverything(filters: Filters): boolean {
  return filters.include.length === 1 && filters.include[0] === '**' && filters.exclude.length === 0;
}

/** Which listed entries a walk keeps, and which folders it enters. */
interface WalkFilter {
  keep(rel: string): boolean;
  enter(rel: string): boolean;
}

/**
 * The tree's globs as fast-glob applied them (its entry set is kept, so layers do not change): an entry is kept
 * when it lies below an include's base and matches it; an excluded entry is dropped with everything below it; a
 * folder outside every include's base is not entered.
 */
function globFilter(filters: Filters): WalkFilter {
  const byBase = new Map<string, string[]>();
  for (const pattern of filters.include) {
    const base = globBase(pattern);
    byBase.set(base, [...(byBase.get(base) ?? []), pattern]);
  }
  // Like fast-glob: one pattern at the root makes every pattern match anywhere (`MonoBleedingEdge/**` then keeps the
  // folder itself). A folder listed or not holds the same entry: the scan adds each file's parents.
  const atRoot = byBase.has('') ? new Map([['', filters.include]]) : byBase;
  const groups: { below: string; matches: PathMatcher }[] = [...atRoot].map(([base, patterns]) => ({
    below: base === '' ? '' : `${base}/`,
    matches: globMatcher(patterns),
  }));
  const excluded = globMatcher(filters.exclude);
  return {
    keep: (rel) => !excluded(rel) && groups.some((g) => rel.startsWith(g.below) && g.matches(rel)),
    enter: (rel) => !excluded(rel) && groups.some((g) => rel.startsWith(g.below) || g.below.startsWith(`${rel}/`)),
  };
}

/**
 * Every entry under `root` (those `filter` keeps, when given), listed with plain readdir and without following
 * links. Each entry goes to `found` as its folder is listed.
 */
function listEntries(root: string, label: string, found: (rel: string, isDirectory: boolean) => void, filter?: WalkFilter): void {
  const pending: string[] = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    const dir = rel === '' ? root : `${root}${path.sep}${rel}`;
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' && rel !== '') continue; // removed since its parent was listed: not part of this scan
      if (code === 'ENAMETOOLONG') assertPathFits(dir, label, true);
      if (code === 'EACCES' || code === 'EPERM') {
        throw new GamelayerError('scan.unreadable', `${label}: ${dir} cannot be listed (permission denied)`, 'fix its permissions or exclude it in gamelayer.yaml');
      }
      throw e;
    }
    const base = rel === '' ? '' : `${rel}/`;
    for (const dirent of dirents) {
      const p = base + dirent.name;
      const isDirectory = dirent.isDirectory();
      if (filter === undefined) {
        found(p, isDirectory);
        if (isDirectory) pending.push(p);
        continue;
      }
      if (filter.keep(p)) found(p, isDirectory);
      if (isDirectory && filter.enter(p)) pending.push(p);
    }
  }
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
 * Node decodes names as UTF-8, replacing bytes that are not with U+FFFD: such a path names no file. Read the
 * folder's names as bytes and fail clearly.
 */
async function assertUtf8Names(root: string, dirs: string[], filters: Filters, label: string): Promise<void> {
  const excluded = globMatcher(filters.exclude);
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

/**
 * Refuses a path longer than Linux's PATH_MAX: no walk, hash or runtime could open it by name. (A tar could store
 * it, but readdir by full path cannot reach it, and Node has no openat to descend relative to a folder.) The message
 * shows the path's ends, not its kilobytes.
 */
function assertPathFits(full: string, label: string, tooLong = false): void {
  const bytes = Buffer.byteLength(full);
  if (!tooLong && bytes <= PATH_MAX_BYTES) return;
  const shown = full.length > 160 ? `${full.slice(0, 80)}…${full.slice(-60)}` : full;
  throw new GamelayerError(
    'scan.path-too-long',
    `${label}: a path in the tree is ${bytes} bytes, longer than Linux allows (${PATH_MAX_BYTES}): ${shown}`,
    'shorten its folder names, or exclude the folder in gamelayer.yaml',
  );
}

/** Names gamelayer writes at a tree's root: the image sentinel and the copy-complete marker of deployments. */
export const RESERVED_ROOT_NAMES = ['.gamelayer-tree', '.complete'];

/** What assertLayerSafeName checks, without making its message: the walk asks this of every entry. */
function isLayerSafeName(rel: string): boolean {
  if (rel.startsWith('.') && RESERVED_ROOT_NAMES.includes(rel)) return false;
  const slash = rel.lastIndexOf('/');
  return !rel.startsWith(WHITEOUT_PREFIX, slash + 1);
}

/**
 * OCI layers use `.wh.` names to delete files of lower layers: a game file so named would vanish. And the root
 * names gamelayer writes itself would be overwritten or break the copy into a volume.
 */
export function assertLayerSafeName(rel: string, where: string): void {
  if (RESERVED_ROOT_NAMES.includes(rel)) {
    throw new GamelayerError(
      'scan.reserved-name',
      `${where}: "${rel}" at a tree's root is reserved for gamelayer's own markers`,
      'rename it or move it into a folder, or exclude it in gamelayer.yaml',
    );
  }
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (name.startsWith(WHITEOUT_PREFIX)) {
    throw new GamelayerError(
      'scan.whiteout-name',
      `${where}: names starting with "${WHITEOUT_PREFIX}" are reserved for OCI whiteouts; a layer cannot hold this file`,
      'rename it, or exclude it in gamelayer.yaml',
    );
  }
}
