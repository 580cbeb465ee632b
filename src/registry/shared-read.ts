// One read of a store blob for several uploads of it (one per registry of a multi-target push). The uploads that
// will read a blob are announced first; the blob is read from disk (verified while it streams, see
// oci/blob-verify.ts) once all of them have opened it or dropped out, and every chunk goes to each of them. The
// slowest upload sets the pace (a branch holding more than a few MiB pauses the read): reading once costs that.
// Whatever does not fit the shared pass — a retry that starts again, a range out of order, an upload that opens
// the blob after the read started, or after the others waited `joinWaitMs` for it — reads the file on its own,
// so an upload never waits on another registry for long and never gets wrong bytes; `reads` counts every pass.
import { Readable } from 'node:stream';
import type { BlobSource } from './upload.js';
import type { Descriptor } from '../types.js';

/** A branch holding this many bytes not yet sent pauses the shared read. */
const BRANCH_HIGH_WATER = 8 * 1024 * 1024;
/** How long the uploads that opened a blob wait for the others before the read starts without them. */
const DEFAULT_JOIN_WAIT_MS = 15_000;

/** A blob source for one upload, that also says when the upload is over (read or not). */
export interface SharedBlobSource extends BlobSource {
  /** The upload is done with the blob (finished, failed, mounted, skipped): nobody waits for it any more. */
  release(): void;
}

interface Branch {
  /** Bytes of the blob this upload has taken so far. */
  cursor: number;
  queue: Buffer[];
  queued: number;
  detached: boolean;
  wake?: () => void;
}

interface Entry {
  descriptor: Descriptor;
  /** Uploads announced that have neither opened the blob nor dropped out. */
  pending: Set<string>;
  branches: Map<string, Branch>;
  state: 'waiting' | 'reading' | 'ended' | 'failed';
  error?: Error;
  source?: BlobSource;
  stream?: Readable;
  timer?: NodeJS.Timeout;
}

export class SharedBlobReads {
  private readonly entries = new Map<string, Entry>();
  /** Full or partial passes over each blob's file, by digest. */
  readonly reads = new Map<string, number>();
  private readonly joinWaitMs: number;

  /** `open` gives a fresh source of a blob (one read of the file per `open()` of it). */
  constructor(
    private readonly open: (d: Descriptor) => BlobSource,
    opts: { joinWaitMs?: number } = {},
  ) {
    this.joinWaitMs = opts.joinWaitMs ?? DEFAULT_JOIN_WAIT_MS;
  }

  /** Announces the uploads (by name) that will read this blob. */
  expect(d: Descriptor, readers: string[]): void {
    const entry: Entry = { descriptor: d, pending: new Set(readers), branches: new Map(), state: 'waiting' };
    this.entries.set(d.digest, entry);
  }

  /** The source `reader` uploads `d` from. */
  sourceFor(d: Descriptor, reader: string): SharedBlobSource {
    const entry = this.entries.get(d.digest);
    let own: BlobSource | undefined;
    const ownSource = () => (own ??= this.counted(this.open(d)));
    return {
      digest: d.digest,
      size: d.size,
      origin: ownSource().origin,
      open: (start = 0, end = d.size - 1) => {
        const branch = entry?.branches.get(reader);
        if (entry && !branch && start === 0 && entry.state === 'waiting' && entry.pending.has(reader)) {
          entry.pending.delete(reader);
          const b: Branch = { cursor: 0, queue: [], queued: 0, detached: false };
          entry.branches.set(reader, b);
          this.maybeStart(entry);
          return this.rangeReader(entry, b, end, reader);
        }
        if (entry && branch && !branch.detached && start === branch.cursor && entry.state !== 'failed') return this.rangeReader(entry, branch, end, reader);
        if (entry) this.leave(entry, reader);
        return ownSource().open(start, end);
      },
      damage: () => own?.damage?.() ?? entry?.source?.damage?.(),
      actualDigest: () => ownSource().actualDigest?.() ?? Promise.reject(new Error('cannot read the blob again')),
      release: () => {
        if (entry) this.leave(entry, reader);
      },
    };
  }

  private counted(source: BlobSource): BlobSource {
    return {
      ...source,
      open: (start, end) => {
        this.reads.set(source.digest, (this.reads.get(source.digest) ?? 0) + 1);
        return source.open(start, end);
      },
    };
  }

  /** `reader` will not take (more of) the shared read. */
  private leave(entry: Entry, reader: string): void {
    entry.pending.delete(reader);
    const b = entry.branches.get(reader);
    if (b && !b.detached) {
      b.detached = true;
      b.queue = [];
      b.queued = 0;
      b.wake?.();
    }
    this.maybeStart(entry);
    this.maybeResume(entry);
  }

  private maybeStart(entry: Entry): void {
    if (entry.state !== 'waiting') return;
    const live = [...entry.branches.values()].some((b) => !b.detached);
    if (!live) return;
    if (entry.pending.size > 0) {
      // Some uploads have not opened it yet: wait a little for them, then read without them.
      entry.timer ??= setTimeout(() => {
        entry.pending.clear();
        this.maybeStart(entry);
      }, this.joinWaitMs);
      entry.timer.unref?.();
      return;
    }
    clearTimeout(entry.timer);
    entry.state = 'reading';
    entry.source = this.counted(this.open(entry.descriptor));
    const stream = entry.source.open(0, entry.descriptor.size - 1);
    entry.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      for (const b of entry.branches.values()) {
        if (b.detached) continue;
        b.queue.push(chunk);
        b.queued += chunk.length;
        b.wake?.();
      }
      if ([...entry.branches.values()].some((b) => !b.detached && b.queued > BRANCH_HIGH_WATER)) stream.pause();
    });
    stream.on('end', () => {
      entry.state = 'ended';
      for (const b of entry.branches.values()) b.wake?.();
    });
    stream.on('error', (e: Error) => {
      entry.state = 'failed';
      entry.error = e;
      for (const b of entry.branches.values()) b.wake?.();
    });
  }

  private maybeResume(entry: Entry): void {
    const s = entry.stream;
    if (!s || entry.state !== 'reading' || !s.isPaused()) return;
    const live = [...entry.branches.values()].filter((b) => !b.detached);
    if (live.length === 0) {
      s.destroy(); // nobody reads it any more
      entry.state = 'ended';
      return;
    }
    if (live.every((b) => b.queued <= BRANCH_HIGH_WATER / 2)) s.resume();
  }

  /** Bytes [branch.cursor, end] of the shared read, as one stream; destroyed early, the branch drops out. */
  private rangeReader(entry: Entry, branch: Branch, end: number, name: string): Readable {
    let finished = false;
    const reader = new Readable({
      read: () => pump(),
      destroy: (err, cb) => {
        branch.wake = undefined;
        if (!finished) this.leave(entry, name);
        cb(err);
      },
    });
    const pump = () => {
      for (;;) {
        if (branch.detached) return void reader.destroy(new Error('shared read abandoned'));
        const remaining = end + 1 - branch.cursor;
        if (remaining <= 0) {
          finished = true;
          branch.wake = undefined;
          reader.push(null);
          return;
        }
        const head = branch.queue[0];
        if (!head) {
          if (entry.state === 'failed') return void reader.destroy(entry.error);
          if (entry.state === 'ended') return void reader.destroy(new Error(`the blob ended at ${branch.cursor} bytes, before ${end + 1}`));
          branch.wake = pump;
          return;
        }
        const n = Math.min(head.length, remaining);
        const piece = n === head.length ? branch.queue.shift()! : head.subarray(0, n);
        if (n < head.length) branch.queue[0] = head.subarray(n);
        branch.queued -= n;
        branch.cursor += n;
        this.maybeResume(entry);
        if (!reader.push(piece)) {
          branch.wake = undefined;
          return;
        }
      }
    };
    return reader;
  }
}
