// The scan's per-source caches (`cache/stat/<id>.json`, `cache/archive/<id>.json`, `cache/archive-members/<id>.json`) are named by the source's absolute
// path. A checkout whose path changes with every build (CodeBuild's CODEBUILD_SRC_DIR is /codebuild/output/src<N>/…
// with a new N each build, and the buildspec caches these folders) so left one more file per tree per build, carried
// from host to host for ever. The build and gc remove the files of sources the config does not name once nobody has
// written them for a while, and all but the newest few: a file kept for another config beside this one (same state folder) that is removed costs
// that config one rehash of its trees, never a wrong hash (each row is checked against the file's stat).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { filesByAge } from '../util/files-by-age.js';
import { cacheFile } from './scan.js';

/** What the build leaves: files of other sources written in the last week (the build of another config beside). */
export const BUILD_KEEPS_MS = 7 * 86_400_000;

export const SCAN_CACHE_KINDS = ['stat', 'archive', 'archive-members'] as const;

/**
 * At most this many files of other sources stay per kind, however recent: a cache restored with fresh file times (a
 * CI cache may not keep them) is bounded all the same.
 */
export const OTHER_SOURCES_KEPT = 16;

/** The scan cache files of sources `config` does not name: those not written for `ageMs`, and all but the newest few. */
export async function staleScanCaches(config: Pick<GameConfig, 'stateDir' | 'trees'>, ageMs: number, now = Date.now()): Promise<string[]> {
  const sources = new Set(Object.values(config.trees).flatMap((t) => Object.values(t.sources)));
  const out: string[] = [];
  for (const kind of SCAN_CACHE_KINDS) {
    const own = new Set([...sources].map((s) => path.basename(cacheFile(config.stateDir, kind, s))));
    const others = await filesByAge(path.join(config.stateDir, 'cache', kind), (name) => name.endsWith('.json') && !own.has(name));
    others.forEach((o, i) => {
      if (i >= OTHER_SOURCES_KEPT || now - o.mtimeMs >= ageMs) out.push(o.file);
    });
  }
  return out.sort();
}

/** Removes them; a cache, so a file that cannot be removed is left for the next build. Returns how many went. */
export async function sweepScanCaches(config: Pick<GameConfig, 'stateDir' | 'trees'>, ageMs = BUILD_KEEPS_MS): Promise<number> {
  let n = 0;
  for (const f of await staleScanCaches(config, ageMs).catch(() => [] as string[])) {
    await rm(f, { force: true }).then(() => n++, () => undefined);
  }
  return n;
}
