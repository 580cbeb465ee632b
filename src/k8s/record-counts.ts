// What the deploy specs take from a build record's entries: per tree manifest, how many entries, their bytes, how
// many are executable, and the same outside a chunked tree's chunk store. Read from the record's bytes one entry at
// a time (state/record-summary.ts steps over the rest): a 1M-entry game's record is 170 MB of JSON, which parsed
// whole took 626 MiB to emit a spec that needs a few numbers per tree; a large record is not held at all, its
// lists read from the file a batch at a time (state/record-totals.ts): its bytes were 164 of `k8s`'s 240 MiB.
import { inChunkStore } from '../chunk/recipe.js';
import { countedManifests, forEachElement, parseBuildSummary, recordCorrupt, recordNotJson, type BuildRecordSummary, type ManifestHead } from '../state/record-summary.js';
import { withLargeRecord } from '../state/record-totals.js';
import { isFileEntry, type BuildRecord, type FileEntry } from '../types.js';

/** A manifest's entries counted as the deploy input needs them. */
export interface EntryTotals {
  entries: number;
  /** Sum of the files' sizes. */
  fileBytes: number;
  /** Files with an executable bit. */
  executables: number;
  /** Entries outside the chunk store (`.gamelayer-chunks/`), and their files' bytes. */
  outsideChunks: { entries: number; fileBytes: number };
}

export type CountedManifest = ManifestHead & EntryTotals;

/** A build record as the deploy input reads it: its summary and its manifests' heads with their entries counted. */
export interface DeployRecord extends BuildRecordSummary {
  manifests: CountedManifest[];
}

/** Counts entries handed one at a time. */
export function entryCounter(): { add(e: FileEntry): void; totals: EntryTotals } {
  const totals: EntryTotals = { entries: 0, fileBytes: 0, executables: 0, outsideChunks: { entries: 0, fileBytes: 0 } };
  return {
    totals,
    add(e) {
      const bytes = e.type === 'file' ? e.size : 0;
      totals.entries++;
      totals.fileBytes += bytes;
      if (e.type === 'file' && e.mode & 0o111) totals.executables++;
      if (!inChunkStore(e.path)) {
        totals.outsideChunks.entries++;
        totals.outsideChunks.fileBytes += bytes;
      }
    },
  };
}

/** The deploy view of a record held whole. */
export function deployRecordOf(record: BuildRecord): DeployRecord {
  const { manifests, plan: _plan, ...summary } = record;
  return {
    ...summary,
    manifests: manifests.map(({ entries, ...head }) => {
      const c = entryCounter();
      for (const e of entries) c.add(e);
      return { ...head, ...c.totals };
    }),
  };
}

/**
 * The deploy view of the build record in `file`; the errors of `readBuildRecord` for a missing, scan or corrupt one.
 * A large record (from `recordStream.minBytes` on) is not held: its lists read a batch at a time (record-totals.ts).
 */
export async function readDeployRecord(file: string): Promise<DeployRecord> {
  return withLargeRecord(
    file,
    (skeleton, list) =>
      deployRecordFrom(file, skeleton, (n, _at, visit) => {
        for (const batch of list('m', n).batches()) for (const e of batch) visit(e);
      }),
    (bytes) => deployRecordFrom(file, bytes, (_n, at, visit) => forEachElement(bytes, at, (s, end) => visit(JSON.parse(bytes.toString('utf8', s, end))))),
  );
}

/** The deploy view from a record's bytes, each manifest's entries handed to `visit` by `each` (`at`: the list's first byte). */
function deployRecordFrom(file: string, bytes: Buffer, each: (n: number, at: number, visit: (e: unknown) => void) => void): DeployRecord {
  const summary = parseBuildSummary(file, bytes);
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  try {
    const manifests = countedManifests(file, bytes, (list, n) => {
      const c = entryCounter();
      let i = 0;
      each(n, list, (e) => {
        if (!isFileEntry(e)) throw corrupt(`manifests[${n}].entries[${i}]: not an entry (path, type, mode, size)`);
        c.add(e);
        i++;
      });
      return c.totals;
    });
    return { ...summary, manifests };
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file);
    throw e;
  }
}
