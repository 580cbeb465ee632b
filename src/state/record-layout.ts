// A record file put in the layout this version writes, rewritten from its own bytes a MiB at a time (a 1M-entry
// game's record is 170 MB; record-members.ts writePieces, as markPushed's splice). A record stop 47 wrote has its
// `store` last, so whose it is was read from all of it (record-name.ts reads its summary) by every build after, a
// no-op build too, which leaves an unchanged record as it is: such a build rewrites it once with `store` first.
import { openRecordFile } from './record-file.js';
import { textAt, topLevelPlaces, writePieces, type Piece } from './record-members.js';
import { withRecordsLock } from './records-lock.js';

/** What a local record written since stop 48 starts with (records.ts, `localRecord`). */
const STORE_FIRST = '{"kind":"build","store":';

/**
 * Rewrites the build record `file` of the state folder `stateDir` with `kind` and `store` first, its other members as
 * they were, in their order, when it names a store elsewhere (stop 47's layout). A record written since, one naming no
 * store (older versions: any store's, record-name.ts), and one that cannot be read or is not a build's (its reader
 * says why) are left. Best effort: a record that cannot be rewritten (a write error, the records lock held) is left as
 * it is, read whole as before. Under the records lock (records-lock.ts): a push noting itself in the same file
 * (markPushed) is not lost.
 */
export async function putStoreFirst(stateDir: string, file: string): Promise<boolean> {
  try {
    if (!(await storeFirst(file, false))) return false; // the usual case, a record of this layout: no lock taken
    return await withRecordsLock(stateDir, () => storeFirst(file, true), MIGRATION_LOCK_WAIT_MS);
  } catch {
    return false;
  }
}

/** An optional migration does not hold a build back long behind a push noting itself. */
const MIGRATION_LOCK_WAIT_MS = 5_000;

/** Whether `file` is of stop 47's layout; rewritten when `write`. */
async function storeFirst(file: string, write: boolean): Promise<boolean> {
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
    if (!write) return true;
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
