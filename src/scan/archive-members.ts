// A few named members of a tar / tar.gz tree source: their type and first bytes, read up to the last of them (never
// the whole archive when they come early) and kept in a cache keyed by the archive's stat, so a build of an unchanged
// archive reads nothing and loads no tar reader (start-up, issue 17).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { tarExtract } from '../util/tar-extract.js';
import { sniffArchive } from './read-archive.js';
import { cacheFile } from './scan.js';

export interface ArchiveMember {
  type: string;
  /** The first HEAD_BYTES of a regular file. */
  head?: Buffer;
  /** A regular file's permission bits, as its tar header gives them (the start program's execute bit). */
  mode?: number;
}

const HEAD_BYTES = 256;
// /2: a file's mode too (/1 entries, without it, are read again).
const FORMAT = 'gamelayer-archive-members/2';

/** `members` (tree-relative POSIX paths) found in `file`; a member that is not there is absent from the map. */
export async function archiveMembers(file: string, members: string[], stateDir: string): Promise<Map<string, ArchiveMember>> {
  const s = await stat(file);
  const key = JSON.stringify([file, s.size, s.mtimeMs, s.ctimeMs, s.ino, [...members].sort()]);
  const cache = cacheFile(stateDir, 'archive-members', file);
  const cached = await readCheckedJson<{ key: string; found: Record<string, { type: string; head?: string; mode?: number }> }>(cache, FORMAT);
  if (cached.ok && cached.value.key === key && isFoundRecord(cached.value.found)) {
    return new Map(
      Object.entries(cached.value.found).map(([k, v]) => [k, { type: v.type, ...(v.head !== undefined ? { head: Buffer.from(v.head, 'base64') } : {}), ...(v.mode !== undefined ? { mode: v.mode } : {}) }]),
    );
  }
  const found = await readMembers(file, new Set(members));
  // As the scan's archive cache: not for an archive written within 2 s, whose stat may not change with its bytes.
  if (Date.now() - s.mtimeMs > 2000) {
    const record = Object.fromEntries([...found].map(([k, v]) => [k, { type: v.type, ...(v.head ? { head: v.head.toString('base64') } : {}), ...(v.mode !== undefined ? { mode: v.mode } : {}) }]));
    await writeCheckedJson(cache, FORMAT, { key, found: record }).catch(() => {}); // a cache: a read-only state folder only costs a read
  }
  return found;
}

function isFoundRecord(v: unknown): v is Record<string, { type: string; head?: string; mode?: number }> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every(
    (m) =>
      typeof m === 'object' &&
      m !== null &&
      typeof (m as { type?: unknown }).type === 'string' &&
      ['string', 'undefined'].includes(typeof (m as { head?: unknown }).head) &&
      ['number', 'undefined'].includes(typeof (m as { mode?: unknown }).mode),
  );
}

async function readMembers(file: string, wanted: Set<string>): Promise<Map<string, ArchiveMember>> {
  const found = new Map<string, ArchiveMember>();
  const compression = await sniffArchive(file);
  if (compression === undefined) return found;
  const extract = await tarExtract();
  const input = createReadStream(file);
  const source = compression === 'gzip' ? input.pipe(createGunzip()) : input;
  return new Promise((resolve, reject) => {
    let ended = false;
    const end = (e?: unknown) => {
      if (ended) return;
      ended = true;
      input.destroy();
      source.destroy();
      if (e) reject(e as Error);
      else resolve(found);
    };
    extract.on('entry', (header, stream, next) => {
      const name = header.name.split('/').filter((p) => p !== '' && p !== '.').join('/');
      const want = wanted.has(name) && !found.has(name);
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (c: unknown) => {
        if (want && bytes < HEAD_BYTES) {
          chunks.push(c as Buffer);
          bytes += (c as Buffer).length;
        }
      });
      stream.on('error', end);
      stream.on('end', () => {
        if (want) {
          const file = header.type === 'file' || header.type === 'contiguous-file';
          found.set(name, { type: file ? 'file' : String(header.type), ...(file ? { head: Buffer.concat(chunks).subarray(0, HEAD_BYTES), mode: header.mode ?? 0o644 } : {}) });
        }
        if (found.size === wanted.size) end();
        else next();
      });
      stream.resume();
    });
    extract.on('finish', () => end());
    extract.on('error', end);
    source.on('error', end);
    source.pipe(extract);
  });
}
