// One lock for rewrites of a state folder's records. markPushed's splice and putStoreFirst's migration each read a
// record and replace it whole: run together (a `gamelayer push` beside a no-op build of the same store), the later
// rename dropped the other's change (the push's `pushed` entry).
import path from 'node:path';
import { LOCK_TIMEOUT_MS, withLock } from '../util/lock-file.js';

/** Runs `fn` holding `<stateDir>/records.lock`. */
export function withRecordsLock<T>(stateDir: string, fn: () => Promise<T>, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  return withLock(path.join(stateDir, 'records.lock'), fn, timeoutMs);
}
