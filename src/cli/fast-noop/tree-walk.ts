// The lstat walks a no-op stamp compares (stamp.ts): every path under a tree's source, excluded ones too, and the
// state folder's files. Each entry's device, inode, size, mode and times (nanoseconds): a file written, touched,
// replaced, added, removed or renamed changes the walk's hash. The walk never follows a link (nor does the scan:
// a link is stored as one).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { fileIdentity } from '../../util/file-identity.js';
import { sha256 } from './stamp.js';

/** What a walk saw besides its hash. */
export interface WalkSeen {
  /** The latest mtime of a file. */
  mtimeNs: bigint;
  entries: number;
}

function identity(st: BigIntStats): string {
  return `${fileIdentity(st)}:${st.mode}`;
}

/**
 * The hash of `root`'s walk. The root itself is stat-ed both ways (a source that is a link to a folder is scanned
 * as that folder); `skip` lists folders below it that are gamelayer's own (the state folder, the store), left out
 * as the scan leaves them out. A root that is gone hashes as such. `seen`, when given, counts the entries walked and
 * is raised to the latest mtime of a file.
 */
export function treeWalkHash(root: string, skip: readonly string[], seen?: WalkSeen): string {
  const lines: string[] = [];
  let top: BigIntStats;
  try {
    top = statSync(root, { bigint: true });
    lines.push(`\0${identity(lstatSync(root, { bigint: true }))}\0${identity(top)}`);
  } catch (e) {
    return `gone:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  if (top.isDirectory()) walk(root, '', new Set(skip), lines, seen);
  else if (seen && top.mtimeNs > seen.mtimeNs) seen.mtimeNs = top.mtimeNs;
  return sha256(lines.join('\n'));
}

function walk(dir: string, rel: string, skip: ReadonlySet<string>, lines: string[], seen?: WalkSeen): void {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (skip.has(full)) continue;
    const st = lstatSync(full, { bigint: true });
    lines.push(`${rel}${name}\0${identity(st)}`);
    if (seen) seen.entries++;
    if (st.isDirectory()) walk(full, `${rel}${name}/`, skip, lines, seen);
    else if (seen && st.mtimeNs > seen.mtimeNs) seen.mtimeNs = st.mtimeNs;
  }
}

/**
 * The hash of the state folder's walk: the name of every entry and the identity of every file, but not of its
 * folders, whose times move with what any run makes and removes again (the store's hold files, the records' lock).
 * Left out: the holds, the store's temp folder, the records' lock, the stamps and the re-run notes (their text is
 * in the stamp, which the fast path writes: a note it wrote must not undo the stamp). The store's blob folder is one
 * entry, its own identity (a blob added or removed changes it); the blobs are not walked one by one.
 *
 * Left out too: the record-blob copies (`cache/record-blobs/`, registry/record-blob-cache.ts), which every `diff
 * --against REPO` adds to or touches. A no-op reads its line's record from the line's copy (`cache/line-records/`,
 * walked); a record blob is read there only when that copy does not answer, only by the digest the line's record
 * names, and only if its bytes hash to it: the blob the fast path GETs and hashes from the registry itself. A copy
 * added, touched, evicted or damaged saves or costs the full path one GET of that blob, never another outcome. (A
 * config with `mountFrom:`, which reads its other games' newest records through it, is never stamped: record.ts.)
 *
 * And the validated config (`cache/validated-config-*.json`, config/validated-cache.ts): what the config's checks made
 * of its text, taken only when its key (that text and this gamelayer's code identity, both in the stamp's key) is the
 * run's, so any entry or none gives the same config; the library and the CLI, of two code identities, overwrite each
 * other's (a `--builder docker` build between two no-ops made the second fall through).
 */
export function stateWalkHash(stateDir: string): string {
  const lines: string[] = [];
  const blobs = path.join(stateDir, 'oci', 'blobs', 'sha256');
  const cache = path.join(stateDir, 'cache');
  const skipped = new Set([path.join(stateDir, 'oci', '.holds'), path.join(stateDir, 'oci', '.tmp'), path.join(stateDir, 'cache', 'fast-noop'), path.join(stateDir, 'cache', 'record-blobs')]);
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (skipped.has(full) || (dir === stateDir && name.startsWith('records.lock')) || name.startsWith('rerun-last') || (dir === cache && name.startsWith('validated-config-'))) continue;
      const st = lstatSync(full, { bigint: true });
      if (full === blobs || !st.isDirectory()) lines.push(`${path.relative(stateDir, full)}\0${identity(st)}`);
      else {
        lines.push(`${path.relative(stateDir, full)}/`);
        visit(full);
      }
    }
  };
  try {
    visit(stateDir);
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  return sha256(lines.join('\n'));
}

/**
 * Per blob of the store (path → identity): a blob rewritten in place (a byte written into the server's manifest)
 * keeps the blob folder's identity, which the state walk takes as one entry. A blob gone is `gone`.
 */
export function blobIdentities(files: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of files) {
    try {
      out[f] = identity(lstatSync(f, { bigint: true }));
    } catch (e) {
      out[f] = `gone:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
    }
  }
  return out;
}

/** Bytes of a record's head (state/record-head.ts reads as many): its kind, store, game, creation time and tags. */
const HEAD_BYTES = 4096;

/** The sha256 of the first 4 KiB of a regular file (a record's head), or why there is none. */
export function headHash(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  try {
    if (!fstatSync(fd).isFile()) return 'not a file';
    const head = Buffer.alloc(HEAD_BYTES);
    return sha256(head.subarray(0, readSync(fd, head, 0, HEAD_BYTES, 0)));
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  } finally {
    closeSync(fd);
  }
}
