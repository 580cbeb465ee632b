// The builds gc finds in the shared records folder whose images are not in its store, sorted by the store their
// record names (`store`, a path from the state folder): another store that is there (another config's: kept), a store
// whose folder is gone (orphans: their records go with gc --apply), or none (a record of an older version: kept, as
// gc cannot tell whose). A record naming gc's own store is that store's build, images or not (gc.ts).
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { lastBuildName, storeOfRecord } from '../state/last-build.js';
import { dropRerun } from '../state/last-run.js';
import { recordsDir } from '../state/records.js';
import type { LocalBuildSummary } from './local.js';

export interface Orphan {
  tag: string;
  /** The store its record names, as a path. */
  store: string;
  file: string;
}

export interface Elsewhere {
  live: LocalBuildSummary[];
  orphans: { build: LocalBuildSummary; orphan: Orphan }[];
  unknown: LocalBuildSummary[];
}

/** Whether a folder is provably gone: nothing at its path (a folder there that cannot be read is not). */
async function gone(dir: string): Promise<boolean> {
  try {
    await lstat(dir);
    return false;
  } catch (e) {
    return errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR';
  }
}

export async function sortElsewhere(stateDir: string, builds: readonly LocalBuildSummary[]): Promise<Elsewhere> {
  const out: Elsewhere = { live: [], orphans: [], unknown: [] };
  for (const b of builds) {
    const named = b.record.store;
    if (named === undefined) out.unknown.push(b);
    else {
      const store = storeOfRecord(stateDir, named);
      if (await gone(store)) out.orphans.push({ build: b, orphan: { tag: b.tag, store, file: b.file } });
      else out.live.push(b);
    }
  }
  return out;
}

/**
 * Removes the orphans' records, and the last-build pointers of their stores with their re-run notes (nothing is built
 * into a store that is gone).
 */
export async function removeOrphans(stateDir: string, orphans: Elsewhere['orphans']): Promise<void> {
  for (const { orphan } of orphans) {
    await rm(orphan.file, { force: true });
    const pointer = path.join(recordsDir(stateDir), lastBuildName(stateDir, orphan.store));
    await rm(pointer, { force: true });
    await dropRerun(pointer);
  }
}
