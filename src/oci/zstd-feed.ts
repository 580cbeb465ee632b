// The zstd layer writer's feed threads (zstd-feed-worker.ts) as the calling thread sees them: each with its shared
// slots, which the tar is made in, and its calls; kept between layers (one layer uses a feed at a time).
import type { Worker } from 'node:worker_threads';
import { sharedXxhMemory, XXH_RESERVED } from '../scan/xxh64-shared.js';
import { WorkerCalls, type Unnumbered } from './worker-calls.js';
import { startOciWorker } from './worker-start.js';
import type { FeedReply, FeedRequest } from './zstd-feed-worker.js';

/**
 * Tar bytes per slot of a feed, and slots per feed: the most a layer holds in flight. A slot is sent when full (the
 * tar writer fills a slot at a time: ChunkPool), so a message and a round of pipe writes carry 2 MiB. Eight (16 MiB) let
 * the tar run ahead while one `zstd` finishes and the next starts around a raw run (four stalled the tar there);
 * twelve were no faster on the 3.1 GB game (3 pairs) and took a cold zstd build of 100k files to 247-261 MiB of
 * peak RSS, over issue 17's 256 MiB (eight: 230-236 MiB).
 */
export const SLOT_BYTES = 2 << 20;
const SLOTS = 8;

/** A worker thread of the zstd feed, with its shared slots; one layer uses it at a time. */
export class FeedWorker {
  private readonly worker: Worker;
  private readonly calls = new WorkerCalls<FeedRequest, FeedReply>(() => this.worker);
  /**
   * The slots lie in a shared memory with an xxh64 instance of its own (scan/xxh64-shared.ts): the files the tar
   * writer reads into them are hashed there, not copied into another memory first.
   */
  private readonly memory = sharedXxhMemory(SLOTS * SLOT_BYTES);
  /**
   * One view of each slot: Buffers, as the tar writer fills them (ZstdFileFeed.chunks); posted to the feed's thread,
   * they arrive there as Uint8Arrays on the same memory.
   */
  readonly slots = Array.from({ length: SLOTS }, (_, i) => Buffer.from(this.memory.buffer, XXH_RESERVED + i * SLOT_BYTES, SLOT_BYTES));
  broken = false;

  constructor() {
    this.worker = startOciWorker<FeedReply>('zstd-feed-worker', 'zstd feed worker', {
      // The reply's error, if any, becomes a rejection (with the errno code kept).
      onMessage: (r) => this.calls.answer(r, r.error && Object.assign(new Error(r.error.message), { code: r.error.code })),
      onFail: (e) => {
        this.broken = true;
        this.calls.fail(e);
      },
    });
    this.worker.postMessage({ id: -1, type: 'slots', slots: this.slots } satisfies FeedRequest);
  }

  /** The slot `bytes` lie in, or -1. */
  slotOf(bytes: Uint8Array): number {
    if (bytes.buffer !== this.memory.buffer) return -1;
    const i = Math.floor((bytes.byteOffset - XXH_RESERVED) / SLOT_BYTES);
    return i >= 0 && i < SLOTS ? i : -1;
  }

  /** Sends a request; resolves with its reply. */
  call(req: Unnumbered<FeedRequest>): Promise<FeedReply> {
    if (this.broken) return Promise.reject(new Error('zstd feed worker is gone'));
    return this.calls.call(req);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

const idleFeeds: FeedWorker[] = [];
const allFeeds = new Set<FeedWorker>();

/** A feed for a layer: an idle one, else a new one. */
export function takeFeed(): FeedWorker {
  const feed = idleFeeds.pop() ?? new FeedWorker();
  allFeeds.add(feed);
  return feed;
}

/** A layer is done with `feed`: idle for the next one, or (`reusable` false: it lost track) stopped. */
export function releaseFeed(feed: FeedWorker, reusable: boolean): void {
  if (reusable && !feed.broken) idleFeeds.push(feed);
  else {
    allFeeds.delete(feed);
    void feed.terminate();
  }
}

/** Stops every feed thread (closeZstdWorkers). */
export async function closeFeeds(): Promise<void> {
  const all = [...allFeeds];
  allFeeds.clear();
  idleFeeds.length = 0;
  await Promise.all(all.map((w) => w.terminate()));
}
