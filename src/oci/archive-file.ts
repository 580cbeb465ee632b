// An archive base's file, opened for one walk. The archive is walked more than once by design (its JSON documents
// first, then each layer as it is copied or read), so it must be a regular file: a FIFO or a pipe (a process
// substitution `<(…)`, /dev/fd/63) gives its bytes once, and the second open saw nothing or blocked for ever (the
// walk also opened it twice itself: once to sniff gzip, once to read). Each walk now opens the file once, with
// O_NONBLOCK so that a FIFO with no writer is refused by its kind instead of waited on.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { GamelayerError } from '../errors.js';
import { kindOf } from '../util/small-file.js';

/** The open archive and whether it is gzip-compressed (its first two bytes, read through the same descriptor). */
export async function openArchive(file: string): Promise<{ handle: FileHandle; gzip: boolean }> {
  const unreadable = (e: unknown) => new GamelayerError('base.unreadable', `${file}: cannot read: ${(e as Error).message}`);
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => {
    throw unreadable(e);
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw new GamelayerError(
        'base.unreadable',
        `${file}: cannot read: ${kindOf(st)}, not a regular file (an archive base is read more than once: its documents, then its layers)`,
        'save the archive to a file and name that file in baseImage (a FIFO or a process substitution <(…) can be read only once)',
      );
    }
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return { handle, gzip: bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b };
  } catch (e) {
    await handle.close();
    throw e instanceof GamelayerError ? e : unreadable(e);
  }
}
