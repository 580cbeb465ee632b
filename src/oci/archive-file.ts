// An archive base's file, opened for one walk. The archive is walked more than once by design (its JSON documents
// first, then each layer as it is copied or read), so it must be a regular file: a FIFO or a pipe (a process
// substitution `<(…)`, /dev/fd/63) gives its bytes once, and the second open saw nothing or blocked for ever (the
// walk also opened it twice itself: once to sniff gzip, once to read). Each walk now opens the file once, without
// waiting on a FIFO that has no writer (util/small-file.ts): it is refused by its kind.
import type { FileHandle } from 'node:fs/promises';
import { GamelayerError } from '../errors.js';
import { openRegularFile } from '../util/small-file.js';

/** The open archive and whether it is gzip-compressed (its first two bytes, read through the same descriptor). */
export async function openArchive(file: string): Promise<{ handle: FileHandle; gzip: boolean }> {
  const unreadable = (e: unknown) => new GamelayerError('base.unreadable', `${file}: cannot read: ${(e as Error).message}`);
  const opened = await openRegularFile(file).catch((e: unknown) => {
    throw unreadable(e);
  });
  if ('notFile' in opened) {
    throw new GamelayerError(
      'base.unreadable',
      `${file}: cannot read: ${opened.notFile}, not a regular file (an archive base is read more than once: its documents, then its layers)`,
      'save the archive to a file and name that file in baseImage (a FIFO or a process substitution <(…) can be read only once)',
    );
  }
  const { handle } = opened;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return { handle, gzip: bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b };
  } catch (e) {
    await handle.close();
    throw unreadable(e);
  }
}
