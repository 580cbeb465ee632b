// A record file rewritten from its own bytes, a MiB at a time (a 1M-entry game's record is 170 MB): with a member
// spliced in (markPushed), or with its members put in the layout this version writes. A record stop 47 wrote has its
// `store` last, so whose it is was read from all of it (record-name.ts reads its summary) by every build after, a
// no-op build too, which leaves an unchanged record as it is: such a build rewrites it once with `store` first.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { diskFullError } from '../util/disk-full.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { openRecordFile } from './record-file.js';
import { copyRange, textAt, topLevelPlaces } from './record-members.js';

/** What a local record written since stop 48 starts with (records.ts, `localRecord`). */
const STORE_FIRST = '{"kind":"build","store":';

/** A piece of the new file: text, or bytes [start, end) of the old one. */
export type Piece = string | readonly [start: number, end: number];

/** Replaces `file` atomically with `pieces`, the old bytes read from `fd` (the file as it was opened and checked). */
export async function writePieces(file: string, fd: number, pieces: readonly Piece[]): Promise<void> {
  await writeFileAtomic(
    file,
    async (tmp) => {
      const out = await open(tmp, 'wx');
      try {
        for (const p of pieces) {
          if (typeof p === 'string') await out.write(Buffer.from(p));
          else await copyRange(fd, out, p[0], p[1]);
        }
      } finally {
        await out.close();
      }
    },
    { writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)) },
  );
}

/**
 * Rewrites the build record `file` with `kind` and `store` first, its other members as they were, in their order,
 * when it names a store elsewhere (stop 47's layout). A record written since, one naming no store (older versions:
 * any store's, record-name.ts), and one that cannot be read or is not a build's (its reader says why) are left.
 */
export async function putStoreFirst(file: string): Promise<boolean> {
  const opened = await openRecordFile(file).catch(() => undefined);
  if (!opened) return false;
  try {
    const fd = opened.handle.fd;
    if (opened.size >= STORE_FIRST.length && textAt(fd, 0, STORE_FIRST.length) === STORE_FIRST) return false;
    let members;
    try {
      members = topLevelPlaces(fd, opened.size, file).members;
    } catch {
      return false;
    }
    const store = members.find((m) => m.key === 'store');
    const kind = members.find((m) => m.key === 'kind');
    if (!store || (kind && textAt(fd, kind.valueStart, kind.valueEnd) !== '"build"')) return false;
    const rest = members.filter((m) => m.key !== 'kind' && m.key !== 'store');
    await writePieces(file, fd, [
      `${STORE_FIRST}${textAt(fd, store.valueStart, store.valueEnd)}`,
      ...rest.flatMap((m): Piece[] => [`,${JSON.stringify(m.key)}:`, [m.valueStart, m.valueEnd]]),
      '}',
    ]);
    return true;
  } finally {
    await opened.handle.close();
  }
}
