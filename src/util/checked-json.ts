// JSON files that carry a sha256 of their body, written atomically: a truncated or garbled file is
// detected on read and reported, never trusted. Used by every cache and record we keep on disk.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { diskFullError } from './disk-full.js';
import { readRegularFileSync } from './small-file.js';
import { writeFileAtomic } from './atomic-write.js';
import { textWriter, writeAll } from './write-all.js';
import { safeJson } from './safe-json.js';

export type CheckedRead<T> = { ok: true; value: T; format: string } | { ok: false; missing: boolean; reason: string };

/** Reads `file` once; `format` may list several accepted formats (a current one and the older ones still read). */
export async function readCheckedJson<T>(file: string, format: string | readonly string[]): Promise<CheckedRead<T>> {
  let text: string;
  try {
    // Synchronous: these files are read once, before the work that needs them, with nothing else to overlap;
    // the promise API reads a multi-MB cache in 512 KiB round trips through the thread pool.
    // Only a regular file: a FIFO in its place would block the read for ever (it is then rewritten, as a bad one is).
    const read = readRegularFileSync(file);
    if ('notFile' in read) return { ok: false, missing: false, reason: `not a regular file (${read.notFile})` };
    text = read.bytes.toString('utf8');
  } catch (e) {
    const missing = errnoCode(e) === 'ENOENT';
    return { ok: false, missing, reason: missing ? 'missing' : `unreadable (${errnoCode(e) ?? String(e)})` };
  }
  const nl = text.indexOf('\n');
  const header = nl > 0 ? safeJson(text.slice(0, nl)) : undefined;
  const body = nl > 0 ? text.slice(nl + 1) : '';
  const formats: readonly string[] = typeof format === 'string' ? [format] : format;
  if (!isHeader(header) || !formats.includes(header.format)) return { ok: false, missing: false, reason: 'unknown format' };
  if (sha256(body) !== header.sha256) return { ok: false, missing: false, reason: 'checksum mismatch (truncated or corrupt)' };
  const value = safeJson(body);
  if (value === undefined) return { ok: false, missing: false, reason: 'corrupt body' };
  return { ok: true, value: value as T, format: header.format };
}

export async function writeCheckedJson(file: string, format: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value);
  const header = JSON.stringify({ format, sha256: sha256(body) });
  await writeFileAtomic(file, `${header}\n${body}`, {
    writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)),
  });
}

/**
 * writeCheckedJson of a body given in pieces (the pieces joined are the JSON text): the same bytes on disk, but
 * written as they come, the checksum taken on the way and the header (of fixed length) written last, in front.
 */
export async function writeCheckedJsonPieces(file: string, format: string, body: Iterable<string>): Promise<void> {
  await writeCheckedJsonFrom(file, format, async (emit) => {
    for (const piece of body) await emit(piece);
  });
}

/**
 * writeCheckedJsonPieces for a writer that produces its pieces as it goes (a layer read through a stream, say):
 * `write` hands each piece to `emit` and resolves when the body is complete.
 */
export async function writeCheckedJsonFrom(file: string, format: string, write: (emit: (piece: string) => Promise<void>) => Promise<void>): Promise<void> {
  const headerBytes = (sha: string) => Buffer.from(`${JSON.stringify({ format, sha256: sha })}\n`);
  const headerLength = headerBytes('0'.repeat(64)).length;
  await writeFileAtomic(
    file,
    async (tmp) => {
      const fh = await open(tmp, 'wx');
      try {
        const hash = createHash('sha256');
        const writer = textWriter(fh, headerLength, (bytes) => hash.update(bytes));
        await write((piece) => writer.write(piece));
        await writeAll(fh, headerBytes(hash.digest('hex')), 0);
      } finally {
        await fh.close();
      }
    },
    { writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)) },
  );
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function isHeader(v: unknown): v is { format: string; sha256: string } {
  return typeof v === 'object' && v !== null && 'format' in v && 'sha256' in v;
}
