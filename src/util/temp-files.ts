// Temp files that name their writer (pid and host), so that those of a process that died (kill -9, power cut
// of a CI step) can be told apart from those of a live one and removed: an interrupted run leaves no garbage
// behind for long, and a concurrent run's temp file is never touched.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { errnoCode } from '../errno.js';

/** 8 hex digits of the host name: a store on a shared file system is written by several hosts. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** `<pid>-<host tag>-<random>`: a unique part for a temp file name. */
export function tempTag(): string {
  return `${process.pid}-${HOST_TAG}-${randomBytes(6).toString('hex')}`;
}

const TAG = /(?:^|[.])(\d+)-([0-9a-f]{8})-[0-9a-f]{12}(?:[.]|$)/;

/** True when `name` carries a temp tag of a process of this host that is no longer running. */
export function isStaleTemp(name: string): boolean {
  const m = TAG.exec(name);
  return m !== null && m[2] === HOST_TAG && !isAlive(Number(m[1]));
}

/** Removes the stale temp files directly in `dir` (not below it); a missing dir is fine. */
export async function sweepStaleTemps(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 0;
    throw e;
  }
  let removed = 0;
  for (const name of names) {
    if (!isStaleTemp(name)) continue;
    await rm(path.join(dir, name), { force: true, recursive: true });
    removed++;
  }
  return removed;
}

/** Whether a process of this host runs under `pid` (EPERM: it runs, as another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}
