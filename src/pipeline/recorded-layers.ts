// The diffID a local build record of these settings gives a layer's inputs: what a layer cache row for inputs the
// previous build did not have (a branch switched back to, the previous record deleted or not restored) is checked
// against. A cache row names a blob the store holds and checks out, but only a record says it is the tar of these
// inputs cheaply; a row no record vouches for has its blob read back and proven first (layer-reuse.ts, oci/layer-proof.ts).
//
// Reading a record costs its size (its summary is found by stepping over its entries: ~170 MB for a 1M-entry game),
// and `.gamelayer/records/` keeps one per tag ever built. So only the newest few records (by the build time each
// holds, not the file's, which noting a push renews) are asked, newest first, one at a time and only until one names
// the inputs: a build reads at most `vouching.records` of them, whatever the number kept. A row only an older record
// names is proven from its blob, as one no record names.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isLastBuildName, recordsDir } from '../state/records.js';
import { readBuildSummary } from '../state/record-summary.js';
import { recordHead } from '../state/record-head.js';
import type { BuiltLayer } from '../types.js';

/** How many of the newest local records a build reads at most to vouch for rows. Settable for tests. */
export const vouching = { records: 4 };

export interface RecordedLayers {
  /**
   * The diffID the newest of the newest few records of these settings that names `inputKey` gives it; undefined
   * when none of them does.
   */
  diffID(inputKey: string): Promise<string | undefined>;
  /** The layer that record names, and the store its build wrote to (a path from the state folder, when it says). */
  layer(inputKey: string): Promise<{ layer: BuiltLayer; store?: string } | undefined>;
  /** Record files read so far (for tests: the bound). */
  readonly reads: number;
}

/** The records of `stateDir` as vouchers for `settingsKey`'s layers, read lazily (see above). */
export function recordedLayers(stateDir: string, settingsKey: string): RecordedLayers {
  const dir = recordsDir(stateDir);
  const found = new Map<string, { layer: BuiltLayer; store?: string }>();
  let files: Promise<string[]> | undefined;
  let next = 0;
  let reads = 0;
  // One record read at a time, whoever asks: two rows asked at once must not read the same record twice.
  let reading: Promise<unknown> = Promise.resolve();

  const readNext = async (): Promise<boolean> => {
    const list = await (files ??= newestRecords(dir, vouching.records));
    if (next >= list.length) return false;
    const file = list[next++]!;
    reads++;
    // Summaries only (the entries are stepped over); a damaged record vouches for nothing.
    const record = await readBuildSummary(file).catch(() => undefined);
    if (record?.settingsKey === settingsKey) {
      // Newest first: a newer record's word stands (the row must still have that diffID, and its blob be sound).
      for (const l of record.layers) if (!found.has(l.inputKey)) found.set(l.inputKey, { layer: l, ...(record.store !== undefined ? { store: record.store } : {}) });
    }
    return true;
  };

  const layer = async (inputKey: string) => {
    for (;;) {
      if (found.has(inputKey)) return found.get(inputKey);
      const turn = reading.then(readNext);
      reading = turn.catch(() => undefined);
      if (!(await turn)) return found.get(inputKey);
    }
  };

  return {
    get reads() {
      return reads;
    },
    diffID: async (inputKey) => (await layer(inputKey))?.layer.diffID,
    layer,
  };
}

/**
 * The `count` newest build records of `dir` (build-last.json is a copy of one of them), newest first: by the time
 * each says its build was made, read from its head (record-head.ts), ties by name. A record with no time there
 * comes after every dated one (gamelayer writes the time in the head: such a file is damaged or not a record).
 * With `game`, only that game's records (by the `game` their heads name).
 */
export async function newestRecords(dir: string, count: number, game?: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^build-.+\.json$/.test(n) && !isLastBuildName(n));
  return names
    .map((name) => ({ file: path.join(dir, name), head: recordHead(path.join(dir, name)) }))
    .filter((d) => game === undefined || d.head.game === game)
    .map((d) => ({ file: d.file, created: d.head.createdMs ?? -Infinity }))
    .sort((a, b) => (b.created === a.created ? 0 : b.created - a.created) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .slice(0, count)
    .map((d) => d.file);
}
