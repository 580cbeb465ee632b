// This host's copies of build-record blobs read from a registry, by digest (`cache/record-blobs/<hex>.blob`).
//
// Why: a CodeBuild build reads the previous build's record three times, each a new process — pre_build's `diff
// --against REPO`, `build`, post_build's pull-cost `diff --against REPO:BASELINE` — and at 1M files the blob is tens
// of MiB. The first read keeps the blob it checked; the later ones read it here. Nothing is trusted unread: a copy is
// used only when its size and sha256 are the digest asked for (the digest itself comes from the manifest just read
// from the registry, checked against its own digest), else it is removed and the registry is asked, as before.
// Bounded: the newest KEEP copies stay (a read touches its copy), so a warm host holds a few records, not every day's.
import { readFile, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { isDigest, sha256Digest } from '../oci/layout.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { filesByAge } from '../util/files-by-age.js';

/** Copies kept: the line's previous record, a baseline's, and a couple more (another line, a retried build). */
const KEEP = 4;
const SUFFIX = '.blob';

export function recordBlobCacheDir(stateDir: string): string {
  return path.join(stateDir, 'cache', 'record-blobs');
}

function blobFile(dir: string, digest: string): string | undefined {
  return isDigest(digest) ? path.join(dir, `${digest.slice('sha256:'.length)}${SUFFIX}`) : undefined;
}

/** The cached bytes of the blob `digest` of `size` bytes, checked against both; undefined when none checks out. */
export async function cachedRecordBlob(dir: string, digest: string, size: number): Promise<Buffer | undefined> {
  const file = blobFile(dir, digest);
  if (!file) return undefined;
  // Its size first: a copy of another size is not read whole to find out.
  const st = await stat(file).catch(() => undefined);
  if (!st) return undefined;
  const bytes = st.size === size ? await readFile(file).catch(() => undefined) : undefined;
  if (!bytes || bytes.length !== size || sha256Digest(bytes) !== digest) {
    await rm(file, { force: true });
    return undefined;
  }
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  return bytes;
}

/** Keeps `bytes` (already checked against `digest` by the caller) and drops all but the newest KEEP copies. */
export async function keepRecordBlob(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const file = blobFile(dir, digest);
  if (!file) return;
  // A copy is a saving, never a requirement: a full disk or a read-only state folder leaves the read as it was.
  try {
    await writeFileAtomic(file, bytes);
    const copies = await filesByAge(dir, (n) => n.endsWith(SUFFIX));
    for (const old of copies.slice(KEEP)) await rm(old.file, { force: true });
  } catch {
    // nothing kept
  }
}
