// What `inspect` shows of a local build record: its summary, and each tree's and plan layer's entries counted
// (state/record-summary.ts `RecordTotals`). A large record (from `recordStream.minBytes` on; the 1M-entry game's is
// 172 MB) is not held: its file is read a MiB at a time for the text around its lists of entries
// (record-stream.ts `recordLists`), then each list a few thousand entries at a time, parsed and counted. Held
// whole, its bytes were most of `inspect`'s 230-242 MiB at 1M entries (issue 17 item 2).
import { GamelayerError } from '../errors.js';
import { readOpenedBytes, recordStream, withRecordFile, type MissingRecord } from './record-file.js';
import { Duplicate, listBatches, recordLists } from './record-stream.js';
import { countEntry, manifestHeads, parseBuildSummary, recordNotJson, recordTotalsOf, totalsWith, type BuildRecordSummary, type EntryCounts, type ManifestHead, type RecordTotals } from './record-summary.js';

const noBuild = (f: string) => new GamelayerError('record.no-build', `${f}: no build yet, run gamelayer build`);

/** The totals of the record in `file`; the errors of `readBuildSummary` for a missing, corrupt or scan record. */
export function readRecordTotals(file: string): Promise<RecordTotals> {
  return withLargeRecord(file, (skeleton, elements) => {
    // A plan layer whose entries are its tree's (the same bytes, by their digest) is counted once.
    const byDigest = new Map<string, EntryCounts>();
    return totalsWith(file, skeleton, (kind, index) => {
      const list = elements(kind, index);
      let c = byDigest.get(list.digest);
      if (!c) {
        c = { entries: 0, files: 0, bytes: 0 };
        for (const batch of list.batches()) for (const e of batch) countEntry(c, e);
        byDigest.set(list.digest, c);
      }
      return { ...c };
    });
  }, (bytes) => recordTotalsOf(file, bytes));
}

/** A list of entries of a large record: its bytes' digest, and its elements parsed a batch at a time. */
export interface LargeList {
  digest: string;
  batches(): Iterable<unknown[]>;
}

/**
 * `use` of a large record (from `recordStream.minBytes` on; the errors of `readBuildSummary` for a missing one):
 * its text with each list of entries `[]` (the skeleton: parsed and checked as a record's bytes are), and each
 * list, a manifest's (`m`) or a plan layer's (`l`) by its index, read from the file when asked while `use` runs
 * (the file is closed when it returns; a SyntaxError when there is no list there). A smaller record, or one with a
 * key twice where lists are looked for, goes to `whole` with its bytes. The file is opened once: what is read is
 * the file that was checked to be a regular one.
 */
export function withLargeRecord<T>(file: string, use: (skeleton: Buffer, list: (kind: 'm' | 'l', index: number) => LargeList) => T, whole: (bytes: Buffer) => T, missing: MissingRecord = noBuild): Promise<T> {
  return withRecordFile(file, missing, async (opened) => {
    const large = opened.size >= recordStream.minBytes ? largeRecord(file, opened.handle.fd, use) : undefined;
    return large ? large.value : whole(await readOpenedBytes(file, opened));
  });
}

function largeRecord<T>(file: string, fd: number, use: (skeleton: Buffer, list: (kind: 'm' | 'l', index: number) => LargeList) => T): { value: T } | undefined {
  try {
    const { skeleton, lists } = recordLists(fd);
    const spans = new Map(lists.map((l) => [`${l.kind}${l.index}`, l]));
    // Read when asked, in the record's order, so that a bad entry is named as the whole reader names it.
    const value = use(Buffer.from(skeleton), (kind, index) => {
      const l = spans.get(`${kind}${index}`);
      // `entries` there but not a list: as the whole record's reader says of it.
      if (!l) throw new SyntaxError('not a list');
      return { digest: l.digest, batches: () => listBatches(fd, l) };
    });
    return { value };
  } catch (e) {
    if (e instanceof Duplicate) return undefined;
    if (e instanceof GamelayerError) throw e;
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
}

/**
 * A build record's summary and its manifests' heads (no entries), for readers that need a build's entries only for
 * some trees (`diff --against`'s pull cost, `gc`'s kept state): `pick` chooses from the heads, with the summary at
 * hand. A large record is read a MiB at a time for its skeleton (its lists of entries `[]`), never held: read whole,
 * the 1M-entry game's 172 MB were held beside everything else (`diff --against` 434 MiB, `gc` 235 MiB per record).
 */
export function readRecordHeads<T>(file: string, missing: MissingRecord, pick: (heads: ManifestHead[], summary: () => BuildRecordSummary) => T): Promise<T> {
  const from = (bytes: Buffer) => pick(manifestHeads(file, bytes), () => parseBuildSummary(file, bytes));
  return withLargeRecord(file, from, from, missing);
}
