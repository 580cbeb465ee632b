// A local copy of the newest build record of a line of work (`gamelayer-line.<line>`), as this host last read or
// pushed it: the index the line tag names, the record manifest in it and the record blob, in one file per repository
// and line under the state folder (issue 17: a no-op `build --push` then asks the registry one HEAD of the line tag
// instead of three GETs one after another).
//
// Nothing in the file is trusted. It is used only when the registry's answer for the line tag names exactly the
// digest the copy's index bytes hash to; the record manifest is taken only when its bytes hash to the digest that
// verified index names, the record blob only when its bytes hash to the digest that manifest names (readRecord in
// artifact.ts walks the chain as it walks the registry's copies). A missing, damaged, foreign or stale copy is
// ignored and the record is read from the registry, as on a fresh host. Writing it is best effort: a cache, never an
// error, replaced whole (temp file + rename) so a reader sees the old copy or the new one.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readSmallFile } from '../util/small-file.js';
import { sha256Digest } from '../oci/layout.js';

const MAGIC = 'gamelayer-line-copy/1';

/** One document of the copy: its digest (sha256 of the bytes) and bytes. */
export interface CopiedDocument {
  digest: string;
  bytes: Buffer;
}

/** The line's record as last seen: the index the tag named, the record manifest in it, the record blob. */
export interface LineCopy {
  index: CopiedDocument;
  manifest: CopiedDocument;
  blob: CopiedDocument;
}

interface Header {
  magic: string;
  /** `host/repo` and the line tag the copy is of: a file found under another name is not used. */
  repository: string;
  tag: string;
  parts: { digest: string; size: number }[];
}


/** The folder of the copies in a game's state folder. */
export function lineCopyDir(stateDir: string): string {
  return path.join(stateDir, 'cache', 'line-records');
}

function copyFile(dir: string, repository: string, tag: string): string {
  return path.join(dir, `${createHash('sha256').update(`${repository}\0${tag}`).digest('hex').slice(0, 32)}.copy`);
}

/** Whether a copy of `tag` in `repository` may be there (a stat: the caller decides how to ask before reading it). */
export function hasLineCopy(dir: string, repository: string, tag: string): boolean {
  return existsSync(copyFile(dir, repository, tag));
}

/** The size of the copy of `tag` in `repository` (a stat; undefined: none). */
export function lineCopySize(dir: string, repository: string, tag: string): number | undefined {
  try {
    return statSync(copyFile(dir, repository, tag), { throwIfNoEntry: false })?.size;
  } catch {
    return undefined;
  }
}

/**
 * The copy of `tag` in `repository` (`host/repo`), each document's bytes checked against its digest; undefined
 * when there is none or it does not check out (then it is as if there were none).
 */
export async function readLineCopy(dir: string, repository: string, tag: string): Promise<LineCopy | undefined> {
  let file: Buffer;
  try {
    // A regular file only: a FIFO in its place would block the push for ever.
    const read = await readSmallFile(copyFile(dir, repository, tag), Number.MAX_SAFE_INTEGER);
    if (!('bytes' in read)) return undefined;
    file = read.bytes;
  } catch {
    return undefined;
  }
  const end = file.indexOf(0x0a);
  if (end < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(file.subarray(0, end).toString('utf8')) as Header;
  } catch {
    return undefined;
  }
  if (header?.magic !== MAGIC || header.repository !== repository || header.tag !== tag || !Array.isArray(header.parts) || header.parts.length !== 3) return undefined;
  const docs: CopiedDocument[] = [];
  let at = end + 1;
  for (const p of header.parts) {
    if (!Number.isSafeInteger(p?.size) || p.size < 0 || at + p.size > file.length) return undefined;
    const bytes = file.subarray(at, at + p.size);
    at += p.size;
    if (sha256Digest(bytes) !== p.digest) return undefined;
    docs.push({ digest: p.digest, bytes });
  }
  if (at !== file.length) return undefined;
  return { index: docs[0]!, manifest: docs[1]!, blob: docs[2]! };
}

/**
 * Keeps `copy` as the copy of `tag` in `repository`, unless the copy there is already of the same documents.
 * Never throws: a copy that cannot be written only costs the next build its round trips.
 */
export async function saveLineCopy(dir: string, repository: string, tag: string, copy: LineCopy, known?: LineCopy): Promise<void> {
  if (known && known.index.digest === copy.index.digest && known.manifest.digest === copy.manifest.digest && known.blob.digest === copy.blob.digest) return;
  const file = copyFile(dir, repository, tag);
  const docs = [copy.index, copy.manifest, copy.blob];
  const header: Header = { magic: MAGIC, repository, tag, parts: docs.map((d) => ({ digest: d.digest, size: d.bytes.length })) };
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(temp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...docs.map((d) => d.bytes)]), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
