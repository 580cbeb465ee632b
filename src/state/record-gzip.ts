// A build record's gzipped blob (the copy a registry holds) parsed without its JSON held whole (issue 17 item 2): the
// 1M-entry game's record is 5 MB gzipped and 172 MB inflated, and a `build --push` inflated it into one Buffer beside
// the scan (461–472 MiB peak). A blob whose gzip trailer names recordStream.minBytes or more is inflated a piece at a
// time into a temp file and parsed from there as a large local record is (record-stream.ts, a MiB at a time).
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { packedRecord, parseRecordBytes } from './record-parse.js';
import { recordStream } from './records.js';
import { parseRecordFile } from './record-stream.js';

/** The blob does not inflate (not gzip, truncated, or past the limit): its message says which. */
export class RecordInflateError extends Error {}

/** The inflated size a gzip blob's trailer names (modulo 2^32, as gzip keeps it): a hint, checked while inflating. */
export function inflatedSizeHint(gz: Buffer): number {
  return gz.length >= 18 ? gz.readUInt32LE(gz.length - 4) : 0;
}

/** Whether `gz` is taken the streamed way (parseGzippedRecord) rather than inflated whole. */
export function isLargeGzippedRecord(gz: Buffer): boolean {
  return inflatedSizeHint(gz) >= recordStream.minBytes;
}

/**
 * The record's JSON value (what JSON.parse gives, its large lists packed as a local record's), undefined when the
 * inflated bytes are not JSON; a RecordInflateError when the blob does not inflate to at most `maxBytes`.
 */
export async function parseGzippedRecord(gz: Buffer, maxBytes: number): Promise<unknown> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gamelayer-record-'));
  const file = path.join(dir, 'record.json');
  try {
    let total = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        total += chunk.length;
        if (total > maxBytes) done(new RecordInflateError(`it inflates to more than ${maxBytes} bytes`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.from([gz]), createGunzip(), limit, createWriteStream(file));
    } catch (e) {
      throw e instanceof RecordInflateError ? e : new RecordInflateError((e as Error).message);
    }
    let value: unknown;
    try {
      // The temp file this function just wrote, in a folder of its own.
      const fd = openSync(file, 'r');
      try {
        value = parseRecordFile(fd, packedRecord.minEntries, packedRecord.minLayerEntries);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if (e instanceof SyntaxError) return undefined;
      throw e;
    }
    if (value !== undefined) return value;
    // A key twice where lists are looked for: the plain way, as a local record is read.
    try {
      return parseRecordBytes(await readFile(file));
    } catch {
      return undefined;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
