// An exclusive lock file holding "pid host". The file appears whole or not at all: its text is written to a temp
// file first and linked to the lock's name (link fails if the name exists), so a process killed at any moment never
// leaves an empty lock that no one could tell was stale (a create-then-write lock killed between the two did: every
// later build waited for it, then failed). Locks of processes that died on this host are taken over.
import { link, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { readSmallFile } from './small-file.js';
import { isAlive, isStaleTemp, tempTag } from './temp-files.js';

export const LOCK_TIMEOUT_MS = 120_000;

/**
 * A lock whose text names no process (written by an older gamelayer that created the file before writing it, and
 * killed in between) is taken over once it has been left unchanged this long: its writer would have written it
 * within microseconds.
 */
const UNNAMED_LOCK_STALE_MS = 10_000;

/** Takes `file` as an exclusive lock; waits while a live process holds it, and gives a clear error after `timeoutMs`. */
export async function acquireLock(file: string, timeoutMs = LOCK_TIMEOUT_MS): Promise<() => Promise<void>> {
  const me = `${process.pid} ${hostname()}`;
  await sweepLockTemps(file);
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    if (await tryCreate(file, me)) return () => unlink(file).catch(() => {});
    const holder = await lockText(file).catch((e) => (errnoCode(e) === 'ENOENT' ? undefined : ''));
    if (holder === undefined) continue; // released between our link and our read
    if (await isStaleLock(file, holder)) {
      await takeOver(file, holder);
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      throw new GamelayerError('store.locked', `${file}: held by process ${holder || '?'} for over ${timeoutMs / 1000}s`, 'wait for the other build to finish, or remove the lock file if no build is running');
    }
    await new Promise((r) => setTimeout(r, Math.min(200, 10 + attempt * 10)));
  }
}

/** Runs `fn` holding the lock `file` (acquireLock), released however `fn` ends. */
export async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  const release = await acquireLock(file, timeoutMs);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * A lock's text. Only a small regular file is read: anything else in its place (a FIFO, which would block the read
 * for ever) names no process, and is taken over as an unnamed lock is.
 */
async function lockText(file: string): Promise<string> {
  const read = await readSmallFile(file, 4096);
  return 'bytes' in read ? read.bytes.toString('utf8') : '';
}

/** Writes the holder's text beside the lock and links it into place: true when the lock is ours. */
async function tryCreate(file: string, text: string): Promise<boolean> {
  const temp = `${file}.${tempTag()}`;
  await writeFile(temp, text);
  try {
    await link(temp, file);
    return true;
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw e;
    return false;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function isStaleLock(file: string, holder: string): Promise<boolean> {
  const m = /^(\d+) (\S+)$/.exec(holder);
  if (m) return m[2] === hostname() && !isAlive(Number(m[1]));
  const st = await stat(file).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > UNNAMED_LOCK_STALE_MS;
}

/** Removes the stale lock we read, not one a live process just made in its place: rename is atomic. */
async function takeOver(file: string, holder: string): Promise<void> {
  const aside = `${file}.${tempTag()}`;
  if (!(await rename(file, aside).then(() => true, () => false))) return;
  const taken = await lockText(aside).catch(() => '');
  // A live process's lock moved by mistake goes back, unless a newer lock is already in its place.
  if (taken !== holder) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** The temp files of lockers that were killed between writing and linking (or while taking a lock over). */
async function sweepLockTemps(file: string): Promise<void> {
  const prefix = `${path.basename(file)}.`;
  const names = await readdir(path.dirname(file)).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && isStaleTemp(name)) await unlink(path.join(path.dirname(file), name)).catch(() => {});
  }
}
