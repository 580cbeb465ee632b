// The files of a cache folder with their times, newest first: what the cache sweeps (gc's and the build's) decide
// by. A folder that is missing, or a file gone between listing and stat, is simply not in the list.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface AgedFile {
  name: string;
  file: string;
  mtimeMs: number;
}

/** The files of `dir` whose name `accept` takes, newest first (ties by name, so the order is stable). */
export async function filesByAge(dir: string, accept: (name: string) => boolean): Promise<AgedFile[]> {
  const out: AgedFile[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!accept(name)) continue;
    const file = path.join(dir, name);
    const s = await stat(file).catch(() => undefined);
    if (s) out.push({ name, file, mtimeMs: s.mtimeMs });
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
