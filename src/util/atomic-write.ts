// The one way we replace a file: write a temp file, fsync it, rename it over the target, fsync the folder. A reader
// sees the old content or the new, never a part; after a crash or power cut the new name holds all its bytes. The
// temp file names its writer (temp-files.ts), so one left by a killed writer is swept by the next write, and a
// failed write removes its temp file and leaves the target as it was.
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errno.js';
import { makeFolders } from './make-folders.js';
import { sweepStaleTemps, tempTag } from './temp-files.js';

export interface AtomicWriteOptions {
  /** Folder of the temp file (same file system as the target); default the target's folder. */
  tmpDir?: string;
  /** Maps an error of the write (not of the rename), e.g. to a named disk-full error; default: unchanged. */
  writeError?: (e: unknown) => unknown;
}

/** Writes `content` to a fresh file and fsyncs it; fails if the file exists. */
export async function writeDurably(file: string, content: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a folder, so a rename in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
    if (errnoCode(e) !== 'EINVAL' && errnoCode(e) !== 'EISDIR') throw e;
  } finally {
    await fh.close();
  }
}

async function syncFile(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `file` atomically with `content`: bytes or text, or a function that writes the temp file it is given
 * (for streams; it must create the file).
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array | ((tmp: string) => Promise<void>),
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  const tmpDir = opts.tmpDir ?? dir;
  await makeFolders(dir);
  if (tmpDir !== dir) await makeFolders(tmpDir);
  await sweepStaleTemps(tmpDir);
  const tmp = path.join(tmpDir, `${path.basename(file)}.${tempTag()}.tmp`);
  try {
    if (typeof content === 'function') {
      await content(tmp);
      await syncFile(tmp);
    } else {
      await writeDurably(tmp, content);
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw opts.writeError ? opts.writeError(e) : e;
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}
