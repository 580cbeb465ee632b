// Canonical form of a tree: entry order, normalised modes, and the digest over both.
import { createHash, type Hash } from 'node:crypto';
import type { FileEntry, TreeManifest, TreeName, TreeSource } from '../types.js';
import { entrySourceOf } from '../entries/packed-list.js';

export { encodeEntry } from '../entries/packed-list.js';

/**
 * Permission bits as they go into manifests and layers. Only "is it executable" survives, so the
 * umask or the machine that checked the game out never changes a digest (Bazel and Jib do the same).
 */
export function normalizeMode(type: FileEntry['type'], rawMode: number): number {
  if (type === 'dir') return 0o755;
  if (type === 'symlink') return 0o777;
  return rawMode & 0o111 ? 0o755 : 0o644;
}

/** Bytewise (UTF-8) order of two paths: code point order, which differs from JS's UTF-16 `<` above U+FFFF. */
export function compareBytewise(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort above every BMP code point in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Below U+D800, UTF-16 code unit order is UTF-8 byte order: such paths compare natively, which is much faster. */
export const NEEDS_CODE_POINT_ORDER = /[\uD800-\uFFFF]/;

/**
 * The indexes of `entries` in manifest order: bytewise path order (native string order unless a path needs code
 * point order, which is much slower), ties in list order.
 */
export function sortedOrder(entries: readonly { path: string }[]): Int32Array {
  return pathOrder(entries.length, (i) => entries[i]!.path);
}

/** `sortedOrder` of `n` paths, path i given by `path(i)`. */
export function pathOrder(n: number, path: (i: number) => string): Int32Array {
  const order = new Int32Array(n);
  let plain = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (plain && NEEDS_CODE_POINT_ORDER.test(path(i))) plain = false;
  }
  if (plain) return order.sort((a, b) => (path(a) < path(b) ? -1 : path(a) > path(b) ? 1 : a - b));
  return order.sort((a, b) => compareBytewise(path(a), path(b)) || a - b);
}

/**
 * `entries` taken in `order`, as a new list of exactly their number: a list grown by `push` keeps up to half again
 * its length in spare slots (about 4 MiB on 1M entries) for as long as it lives, and a manifest's lives to the end.
 */
export function inOrder<T>(entries: readonly T[], order: Int32Array): T[] {
  // slice() allocates exactly `length` slots (`new Array(n)` of 1M would be a dictionary); then overwritten in order.
  const out = entries.slice(0, order.length);
  for (let i = 0; i < order.length; i++) out[i] = entries[order[i]!]!;
  return out;
}

/** The manifest's order of `entries`, as a new list of exactly their number (the argument is left as it was). */
export function sortEntries(entries: readonly FileEntry[]): FileEntry[] {
  return inOrder(entries, sortedOrder(entries));
}

/** Feeds every entry's `encodeEntry` line to `h`, in chunks (a packed store's from its columns). */
export function hashEntries(h: Hash, entries: readonly FileEntry[]): Hash {
  return entrySourceOf(entries).hashLines(h);
}

export function entriesDigest(entries: readonly FileEntry[]): string {
  return `sha256:${hashEntries(createHash('sha256'), entries).digest('hex')}`;
}

export function makeManifest(
  tree: TreeName,
  source: TreeSource,
  entries: FileEntry[],
  platform?: string,
): TreeManifest {
  const sorted = sortEntries(entries);
  return { tree, root: source.path, source, platform, entries: sorted, digest: entriesDigest(sorted) };
}

/** Adds the missing parent directories of every entry, so a layer never has an orphan path. */
export function withParentDirs(entries: FileEntry[]): FileEntry[] {
  const have = new Set(entries.filter((e) => e.type === 'dir').map((e) => e.path));
  const added: FileEntry[] = [];
  for (const e of entries) {
    let p = e.path;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/')) {
      p = p.slice(0, i);
      if (have.has(p)) break;
      have.add(p);
      added.push({ path: p, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  return added.length ? entries.concat(added) : entries;
}

export function treeBytes(m: Pick<TreeManifest, 'entries'>): number {
  let n = 0;
  for (const e of m.entries) n += e.size;
  return n;
}
