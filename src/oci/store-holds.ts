// Builds and gc share the local store through holds: every build holds it (a file per build in <store>/.holds/,
// named with the temp tag of util/temp-files.ts so a killed build's hold is swept as stale), and so does every
// command reading a build's blobs out of it (push, load: `read.` holds, else gc deleted blobs under a running push),
// gc takes it alone (<store>/.holds/gc, exclusive). A build waits while gc runs; gc waits until no build holds
// the store. Each side creates its own file first and then looks for the other's, so one of them always sees
// the other. Holds of processes that died on this host are stale and ignored (and removed).
import { mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { checkNewStoreFolder } from './store-folder.js';
import { hostname } from 'node:os';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { isAlive, isStaleTemp, sweepStaleTemps, tempTag } from '../util/temp-files.js';
import { acquireLock } from '../util/lock-file.js';
import { readSmallFile } from '../util/small-file.js';

/** The folder of holds in a store. */
export const HOLDS_FOLDER = '.holds';
const HOLDS = HOLDS_FOLDER;
const GC = 'gc';
const WAIT_MS = 120_000;

function holdsDir(storeDir: string): string {
  return path.join(path.resolve(storeDir), HOLDS);
}

/** Whether the hold file names a live process (a hold from another host counts as live: we cannot tell). */
async function live(file: string): Promise<boolean> {
  // A build's hold names its process in its file name too: one killed before its text was written is empty.
  if (isStaleTemp(path.basename(file))) {
    await unlink(file).catch(() => {});
    return false;
  }
  // A hold is a small regular file gamelayer wrote; anything else there (a FIFO would block the read) holds nothing.
  const read = await readSmallFile(file, 4096).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : { bytes: Buffer.alloc(0) }));
  if (read === undefined || !('bytes' in read)) return false;
  const text = read.bytes.toString('utf8');
  const [pid, host] = text.split(' ');
  if (host === hostname() && pid && !isAlive(Number(pid))) {
    await unlink(file).catch(() => {});
    return false;
  }
  return true;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The prefixes of hold files: a build's, and a reader's (push, load). gc waits for both. */
const HOLDERS = ['build.', 'read.'] as const;

/** A build's hold on the store, released by the returned function; waits while a gc runs. */
export async function holdStoreForBuild(storeDir: string, timeoutMs = WAIT_MS, holder: (typeof HOLDERS)[number] = 'build.'): Promise<() => Promise<void>> {
  const dir = holdsDir(storeDir);
  // Refused before the hold's folder is made in it: a folder of other files is no store (layout-folder.ts).
  await checkNewStoreFolder(storeDir);
  await mkdir(dir, { recursive: true });
  const mine = path.join(dir, `${holder}${tempTag()}`);
  await sweepStaleTemps(dir); // holds of builds that were killed
  const started = Date.now();
  for (;;) {
    await writeFile(mine, `${process.pid} ${hostname()}`);
    if (!(await live(path.join(dir, GC)))) return () => unlink(mine).catch(() => {});
    await unlink(mine).catch(() => {});
    if (Date.now() - started > timeoutMs) {
      throw new GamelayerError('store.locked', `${path.join(dir, GC)}: gamelayer gc has held the store for over ${timeoutMs / 1000}s`, 'wait for the gc to finish, or remove the file if no gc is running');
    }
    await sleep(100);
  }
}

/** The store for gc alone: no build starts while it is held, and it is granted once running builds ended. */
export async function lockStoreForGc(storeDir: string, timeoutMs = WAIT_MS): Promise<() => Promise<void>> {
  const dir = holdsDir(storeDir);
  await checkNewStoreFolder(storeDir);
  await mkdir(dir, { recursive: true });
  const release = await acquireLock(path.join(dir, GC), timeoutMs);
  const started = Date.now();
  try {
    for (;;) {
      const running = await liveHolders(dir);
      if (running.length === 0) return release;
      if (Date.now() - started > timeoutMs) {
        throw new GamelayerError('store.locked', `${dir}: ${running.length} build(s), push(es) or load(s) held the store for over ${timeoutMs / 1000}s`, 'run gc when none is running, or remove the hold files of those that are gone');
      }
      await sleep(100);
    }
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * Runs `fn` holding the store as a reader (push, load): a gc waits until it is done, and it waits while a gc runs. A
 * store that does not exist is left to `fn` to report; one this user cannot write (a read-only copy) is read unheld:
 * no gc of this user can run there either.
 */
export async function withStoreRead<T>(storeDir: string, fn: () => Promise<T>): Promise<T> {
  // No store: nothing to hold, and mkdir must not make one (fn says what is missing).
  if (!(await stat(storeDir).then((st) => st.isDirectory(), () => false))) return fn();
  let release: (() => Promise<void>) | undefined;
  try {
    release = await holdStoreForBuild(storeDir, WAIT_MS, 'read.');
  } catch (e) {
    const code = errnoCode(e);
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM' && code !== 'ENOTDIR') throw e;
  }
  try {
    return await fn();
  } finally {
    await release?.();
  }
}

/**
 * How many builds, pushes and loads hold the store now (live holds only). A dry-run gc reads the store as it is:
 * what they are writing has no record yet and shows as removable, though `gc --apply` waits for them.
 */
export async function liveHolds(storeDir: string): Promise<number> {
  return (await liveHolders(holdsDir(storeDir)).catch(() => [])).length;
}

/** The hold files in `dir` of builds, pushes and loads still running. */
async function liveHolders(dir: string): Promise<string[]> {
  const running = [];
  for (const name of await readdir(dir)) if (HOLDERS.some((h) => name.startsWith(h)) && (await live(path.join(dir, name)))) running.push(name);
  return running;
}
