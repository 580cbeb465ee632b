// Opening a record file someone named on the command line (`diff FILE`, `--record FILE`, the state's own records):
// only a regular file is read, and only as many bytes as it held when opened. A FIFO would block the open or the
// read for ever, and /dev/zero would be read without end (a process grew to 23 GB before it was killed).
import type { FileHandle } from 'node:fs/promises';
import { GamelayerError, errnoCode } from '../errors.js';
import { openRegularFile, readUpTo } from '../util/small-file.js';

/**
 * Records from which the file is read without its bytes held whole (record-stream.ts, record-members.ts): the
 * 1M-entry game's is 172 MB. Below, a record's bytes cost less than a second read of the file. Settable for tests.
 */
export const recordStream = { minBytes: 32 << 20 };

/** What a missing record means to the caller: no record at that path, or no build yet. */
export type MissingRecord = (file: string) => GamelayerError;

export const noSuchRecord: MissingRecord = (file) => new GamelayerError('record.missing', `${file}: no such record`);

function unreadable(file: string, reason: string): GamelayerError {
  return new GamelayerError('record.unreadable', `${file}: cannot be read: ${reason}`);
}

/** The record file opened for reading (without waiting on a FIFO: small-file.ts), checked to be a regular file, with its size. */
export async function openRecordFile(file: string, missing: MissingRecord = noSuchRecord): Promise<{ handle: FileHandle; size: number }> {
  let opened;
  try {
    opened = await openRegularFile(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw missing(file);
    throw unreadable(file, (e as Error).message);
  }
  if ('notFile' in opened) throw unreadable(file, `not a regular file (${opened.notFile})`);
  return opened;
}

/**
 * `use` of the record file opened and checked once (`openRecordFile`), closed when `use` is done. Every read of it
 * goes through this descriptor: a file put at the path after the check (a FIFO, another record) is never read.
 */
export async function withRecordFile<T>(file: string, missing: MissingRecord, use: (opened: { handle: FileHandle; size: number }) => T | Promise<T>): Promise<T> {
  const opened = await openRecordFile(file, missing);
  try {
    return await use(opened);
  } finally {
    await opened.handle.close();
  }
}

/** A record file's bytes: a regular file only, read up to the size it had when opened. */
export function readRecordFileBytes(file: string, missing: MissingRecord = noSuchRecord): Promise<Buffer> {
  return withRecordFile(file, missing, (opened) => readOpenedBytes(file, opened));
}

/** The bytes of a record file `openRecordFile` opened, up to the size it had then (`file` names it in errors). */
export async function readOpenedBytes(file: string, { handle, size }: { handle: FileHandle; size: number }): Promise<Buffer> {
  try {
    // A file cut while read is short: its JSON is then truncated, which the parsers report as a damaged record.
    return await readUpTo(handle, size);
  } catch (e) {
    throw unreadable(file, (e as Error).message);
  }
}
