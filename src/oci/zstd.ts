// zstd layers through Debian's `zstd` CLI (Node 20's zlib has no zstd). Multi-threaded mode with fixed
// settings: its output depends on level and input only, not on the thread count (checked in tests).
import { fdatasync as fdatasyncCb } from 'node:fs';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import { GamelayerError } from '../errors.js';
import { removeFifos } from './fifo-pool.js';
import { startOciWorker } from './worker-start.js';
import { closeZstdHost, ZstdLauncher, type ZstdChild } from './zstd-child.js';
import { zstdProcess } from './zstd-process.js';
import { looksRandom, RAW_CHUNK, RAW_RUN_CHUNKS } from './zstd-raw.js';
import type { FeedReply, FeedRequest } from './zstd-feed-worker.js';
import type { ChunkPool } from './tar.js';
import { sharedXxhMemory, XXH_RESERVED } from '../scan/xxh64-shared.js';

export { DEFAULT_ZSTD_LEVEL, zstdCompressorId, type ZstdOptions } from './compressor-id.js';
import { DEFAULT_ZSTD_LEVEL, zstdArgs, zstdVersion, type ZstdOptions } from './compressor-id.js';

/**
 * A duplex that zstd-compresses what is written to it. It ends only after zstd exited 0: a zstd that fails half-way
 * gives a stream error, never a truncated blob that looks complete (oci/zstd-process.ts).
 */
export function createZstd(options: ZstdOptions = {}): Duplex {
  return zstdProcess(options.bin ?? 'zstd', zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), (why) => new GamelayerError('zstd.failed', why));
}


/**
 * Tar bytes per slot of a feed, and slots per feed: the most a layer holds in flight. A slot is sent when full (the
 * tar writer fills a slot at a time: ChunkPool), so a message and a round of pipe writes carry 2 MiB. Eight (16 MiB) let
 * the tar run ahead while one `zstd` finishes and the next starts around a raw run (four stalled the tar there);
 * twelve were no faster on the 3.1 GB game (3 pairs) and took a cold zstd build of 100k files to 247-261 MiB of
 * peak RSS, over issue 17's 256 MiB (eight: 230-236 MiB).
 */
const SLOT_BYTES = 2 << 20;
const SLOTS = 8;

const fdatasync = promisify(fdatasyncCb);

type Request = FeedRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A worker thread of the zstd feed, with its shared slots; one layer uses it at a time. */
class FeedWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: FeedReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /**
   * The slots lie in a shared memory with an xxh64 instance of its own (scan/xxh64-shared.ts): the files the tar
   * writer reads into them are hashed there, not copied into another memory first.
   */
  readonly memory = sharedXxhMemory(SLOTS * SLOT_BYTES);
  readonly slots = Array.from({ length: SLOTS }, (_, i) => new Uint8Array(this.memory.buffer, XXH_RESERVED + i * SLOT_BYTES, SLOT_BYTES));
  /** The slots as Buffers, lent to the tar writer to fill (ZstdFileFeed.chunks). */
  readonly slotBuffers = this.slots.map((s) => Buffer.from(s.buffer, s.byteOffset, s.length));

  /** The slot `bytes` lie in, or -1. */
  slotOf(bytes: Uint8Array): number {
    if (bytes.buffer !== this.memory.buffer) return -1;
    const i = Math.floor((bytes.byteOffset - XXH_RESERVED) / SLOT_BYTES);
    return i >= 0 && i < SLOTS ? i : -1;
  }
  broken = false;

  constructor() {
    this.worker = startOciWorker<FeedReply>('zstd-feed-worker', 'zstd feed worker', {
      onMessage: (r) => {
        const w = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        if (this.waiting.size === 0) this.worker.unref();
        w?.resolve(r);
      },
      onFail: (e) => {
        this.broken = true;
        for (const w of this.waiting.values()) w.reject(e);
        this.waiting.clear();
      },
    });
    this.worker.postMessage({ id: -1, type: 'slots', slots: this.slots } satisfies FeedRequest);
  }

  /** Sends a request; the reply's error, if any, becomes a rejection (with the errno code kept). */
  call(req: Request): Promise<FeedReply> {
    if (this.broken) return Promise.reject(new Error('zstd feed worker is gone'));
    const id = this.nextId++;
    return new Promise<FeedReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, id });
    }).then((r) => {
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r;
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

const idleFeeds: FeedWorker[] = [];
let nextJob = 0;
/** Input bytes between two looks at the output: its hash and its flush to disk go on while zstd writes. */
const OUTPUT_EVERY = 64 << 20;
/** How long a zstd that closed its input may take to exit by itself before it is killed. */
const EXIT_GRACE_MS = 5000;
const allFeeds = new Set<FeedWorker>();

/**
 * Stops the zstd feed workers and ends the build's zstd launcher, waiting until it was reaped (tests, the bench, or a
 * library caller that wants a clean exit right away; call it once no layer is being built).
 */
export async function closeZstdWorkers(): Promise<void> {
  await closeZstdHost();
  removeFifos();
  const all = [...allFeeds];
  allFeeds.clear();
  idleFeeds.length = 0;
  await Promise.all(all.map((w) => w.terminate()));
}

/**
 * `--no-asyncio` for a zstd that has asynchronous I/O (1.5.4 and later, where it is on by default): its reader and
 * writer threads, beside the compression workers and the main thread, handed every block over once more. A cold
 * build of the 954 MiB generated game, two interleaved runs of 6-7 pairs at load 3-8: CPU 6-7 % lower (median 4.77 s
 * against 5.15 s, 4.74 s against 5.04 s), wall 17 % lower in one and the same in the other (bench/README.md, "Stop
 * 40"). I/O only: the bytes are the same (test/oci-zstd.test.ts compares them with the
 * stdin path's, which keeps zstd's default), and the flag is not in the compressor id. A binary whose version is
 * unknown (it fails `--version`, or says something else) gets no flag; it fails, or not, as it would have anyway.
 */
async function ioArgs(bin: string): Promise<string[]> {
  const v = await zstdVersion(bin).catch(() => '');
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return [];
  const [major, minor, patch] = m.slice(1).map(Number) as [number, number, number];
  return major > 1 || (major === 1 && (minor > 5 || (minor === 5 && patch >= 4))) ? ['--no-asyncio'] : [];
}

/** zstd compressing into a file: see `startZstdToFile`. */
export interface ZstdFileFeed {
  /**
   * Hands `chunk` to zstd; resolves once it was copied (the caller may reuse the buffer), or, for a chunk of
   * `chunks`, taken as it is (it is the feed's again). Not concurrently.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * The feed's free slots lent to the tar writer (layerTarChunks' pool): the files are read straight into them and
   * `write` sends them on as they are, where copying each 1 MiB chunk into a slot took 0.3 s of the main thread for
   * the 3.1 GB game (V8 copies into shared memory with a byte-wise relaxed memmove). With none free, a new buffer,
   * which `write` copies.
   */
  chunks: ChunkPool;
  /** Ends the input and waits for every zstd to exit 0; returns the sha256 (`diffID`) and size of all input. */
  end(): Promise<{ diffID: string; bytes: number }>;
  /**
   * After `end`: sha256 and size of the output file (`options.output`), on the feed's thread: zstd's frames read
   * from disk as they were written, raw frames hashed from memory as they were written.
   */
  hashFile(fd: number): Promise<{ digest: string; size: number }>;
  /** Stops zstd, waits for the feed's thread, drops the pipe. Safe at any time, and twice; `end`/`hashFile` call it. */
  abort(): Promise<void>;
}

export interface ZstdFileOptions extends ZstdOptions {
  /** File descriptor zstd writes the compressed bytes to (a blob's temp file). */
  output: number;
  /** That file's path, which each zstd opens for appending (default: `/proc/<pid>/fd/<output>`, Linux only). */
  outputPath?: string;
}

/** A piece of the tar (at most RAW_CHUNK, at a multiple of it) in a feed slot. */
interface Piece {
  slot: number;
  offset: number;
  length: number;
}

/**
 * A zstd layer's blob, written into a file. The tar is cut into pieces of RAW_CHUNK; a run of at least
 * RAW_RUN_CHUNKS pieces that look random (`looksRandom`) is written by the feed's thread as raw zstd frames
 * (zstd-raw.ts), everything else goes to `zstd` processes, one per stretch between such runs, which read a named
 * pipe and write into the file themselves (zstd-child.ts). The blob is their frames in tar order. A worker thread
 * hashes the input (the diffID), writes the pipes with plain blocking writes and the raw frames, and hashes the blob
 * as it grows; the calling thread makes the tar in the shared slots (`chunks`) and decides where each piece goes.
 * Through a child's stdin pipe the calling thread made one non-blocking 64 KiB write and one poll per 64 KiB (5 s
 * of the main thread for 3.1 GB). zstd's output never passes through Node; raw runs never pass through zstd (on
 * random bytes `zstd -1` and its pipe cost about as much CPU as making the tar). The bytes depend on the input only:
 * the cuts are at fixed offsets and the test is a function of a piece's bytes (test/oci-zstd.test.ts).
 */
export async function startZstdToFile(options: ZstdFileOptions): Promise<ZstdFileFeed> {
  const bin = options.bin ?? 'zstd';
  const args = [...zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), ...(await ioArgs(bin))];
  /** The zstd taking the input now: started with the first piece it gets (a layer of random bytes starts none). */
  let child: ZstdChild | undefined;
  const launcher = new ZstdLauncher(bin, args, options.output, options.outputPath);
  /** Whether any zstd was started or any raw frame written: an input of nothing still makes a frame. */
  let framed = false;

  const feed = idleFeeds.pop() ?? new FeedWorker();
  const job = nextJob++;
  allFeeds.add(feed);
  const free = feed.slots.map((_, i) => i);
  /** Pieces of each slot not yet taken by the feed's thread: the slot is free again at 0. */
  const refs = feed.slots.map(() => 0);
  /** Slots lent to the tar writer (`chunks`), not yet back through `write`. */
  const lent = new Set<number>();
  /** The slot being filled, and its bytes so far. */
  let filling: number | undefined;
  let filled = 0;
  const slotWaiters: (() => void)[] = [];
  const inFlight = new Set<Promise<unknown>>();
  /** Requests to the feed's thread that write into the current zstd's pipe. */
  const toChild = new Set<Promise<unknown>>();
  /** Random-looking pieces not yet known to be part of a raw run; and whether a raw run is going on. */
  const held: Piece[] = [];
  let raw = false;
  let failed: Error | undefined;
  let finished = false;

  /** Once anything failed: zstd's own exit status and message say why (a broken pipe is only the symptom). */
  const stop = async (e?: Error): Promise<never> => {
    failed ??= e ?? new Error('zstd feed stopped');
    const c = child;
    // A broken pipe: zstd closed its input and is on its way out; killing it now would lose its exit status and message.
    if (c && !c.exit() && (failed as NodeJS.ErrnoException).code === 'EPIPE') await Promise.race([c.exited, sleep(EXIT_GRACE_MS)]);
    if (!c) throw failed;
    c.kill();
    await c.exited;
    const exit = c.exit();
    throw exit && exit.code !== 0 ? c.failure() : failed;
  };

  const abort = async () => {
    if (finished) return;
    finished = true;
    failed ??= new Error('zstd feed aborted');
    launcher.kill();
    await launcher.done();
    await chain; // what was queued is dropped (failed is set); what ran fails on the killed processes
    await Promise.allSettled([...inFlight, flushing]);
    await child?.pipe.close().catch(() => {});
    await nextChild?.then((n) => n.pipe.close()).catch(() => {});
    // A worker that lost track (a write it never answered) is not handed to another layer.
    if (!feed.broken && inFlight.size === 0) idleFeeds.push(feed);
    else {
      allFeeds.delete(feed);
      void feed.terminate();
    }
  };

  /** A request about `piece`; its slot is free again once every piece of it was taken. */
  const post = (type: 'chunk' | 'raw', fd: number, piece: Piece): Promise<unknown> => {
    const p = feed
      .call({ type, fd, job, ...piece })
      .then(
        () => {
          if (--refs[piece.slot]! === 0) free.push(piece.slot);
        },
        (e: Error) => {
          failed ??= e;
        },
      )
      .finally(() => {
        inFlight.delete(p);
        slotWaiters.shift()?.();
      });
    inFlight.add(p);
    return p;
  };

  /**
   * A zstd started ahead, while the one before still runs: the next stretch has it at once (starting one took 35-45
   * ms at load 7, 52 times for the 3.1 GB game). It writes nothing before its first input, which the feed's thread
   * writes after the raw frames before it. The one left unused at the end is killed.
   */
  let nextChild: Promise<ZstdChild> | undefined;
  const takeChild = () => {
    const c = nextChild ?? launcher.next();
    nextChild = launcher.next();
    nextChild.catch(() => {}); // its failure is the layer's when it is taken
    return c;
  };

  /** Hands a piece to a zstd (none: only starts one), starting one first where a raw run (or nothing) came before. */
  const toZstd = async (piece?: Piece) => {
    if (!child) {
      child = await takeChild();
      framed = true;
    }
    if (!piece) return;
    const p = post('chunk', child.pipe.fd, piece);
    toChild.add(p);
    void p.finally(() => toChild.delete(p));
  };

  /** Ends the current zstd's input and waits for it to exit 0: its frame is then whole in the file. */
  const endChild = async () => {
    const c = child;
    if (!c) return;
    await Promise.all(toChild);
    if (failed) return stop();
    child = undefined;
    await c.pipe.close();
    await c.exited;
    if (c.exit()?.code !== 0) {
      child = c;
      throw c.failure();
    }
  };

  /**
   * What the pieces become runs in their order, apart from the thread making the tar: ending a zstd (its last jobs,
   * its exit) and starting the next would have stopped the tar for 50 ms each time, 6 s in all for the 52 switches
   * of the 3.1 GB game at load 12 (measured). The tar waits only for free slots.
   */
  let chain: Promise<void> = Promise.resolve();
  const queue = (op: () => unknown) => {
    chain = chain
      .then(async () => {
        if (!failed) await op();
      })
      .catch((e: Error) => {
        failed ??= e;
        for (const w of slotWaiters.splice(0)) w();
      });
  };

  /** Where a piece goes: see `startZstdToFile`. */
  const route = (piece: Piece) => {
    const random = looksRandom(feed.slots[piece.slot]!.subarray(piece.offset, piece.offset + piece.length));
    if (raw && random) return queue(() => void post('raw', options.output, piece));
    raw = false;
    if (!random) {
      for (const h of held.splice(0)) queue(() => toZstd(h));
      return queue(() => toZstd(piece));
    }
    held.push(piece);
    if (held.length < RAW_RUN_CHUNKS) return;
    queue(() => endChild());
    raw = true;
    framed = true;
    for (const h of held.splice(0)) queue(() => void post('raw', options.output, h));
  };

  /**
   * A lent slot back with the tar's next bytes at its start: it becomes the slot being filled, as it is. Elsewhere (a
   * slot part filled before it) its bytes are copied like any chunk's, and it is free again.
   */
  const takeBack = async (slot: number, bytes: Uint8Array) => {
    lent.delete(slot);
    if (filling !== undefined || bytes.byteOffset !== feed.slots[slot]!.byteOffset) {
      await gather(bytes);
      free.push(slot);
      return;
    }
    filling = slot;
    filled = bytes.length;
    if (filled === SLOT_BYTES) send();
    // The tar writer's next chunk: a slot, if one comes free, rather than a new buffer to copy.
    while (free.length === 0 && !failed) await new Promise<void>((r) => slotWaiters.push(r));
  };

  /** Copies `bytes` into the slot being filled (taking a free one first); a slot that is full goes to the thread. */
  const gather = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length; ) {
      if (filling === undefined) {
        while (free.length === 0 && !failed) await new Promise<void>((r) => slotWaiters.push(r));
        if (failed) return stop();
        filling = free.pop()!;
        filled = 0;
      }
      const n = Math.min(bytes.length - at, SLOT_BYTES - filled);
      feed.slots[filling]!.set(bytes.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === SLOT_BYTES) send();
    }
  };
  /** Routes the pieces of the slot being filled (slots are filled whole, so pieces fall at multiples of RAW_CHUNK). */
  const send = () => {
    if (filling === undefined) return;
    const slot = filling;
    const length = filled;
    filling = undefined;
    const pieces: Piece[] = [];
    for (let offset = 0; offset < length; offset += RAW_CHUNK) pieces.push({ slot, offset, length: Math.min(RAW_CHUNK, length - offset) });
    refs[slot] = pieces.length;
    if (pieces.length === 0) free.push(slot);
    for (const piece of pieces) route(piece);
  };

  // Every OUTPUT_EVERY bytes of input, the feed's thread hashes what was written so far and the disk is asked to
  // write it out (fdatasync, in the thread pool): the end of the layer then has only the tail of both to wait for.
  let sinceLook = 0;
  let flushing: Promise<void> | undefined;
  const lookAtOutput = () => {
    const p = feed.call({ type: 'hash-file', fd: options.output, job, end: false }).then(
      () => undefined,
      (e: Error) => {
        failed ??= e;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    flushing ??= fdatasync(options.output)
      .catch((e: Error) => {
        failed ??= e;
      })
      .finally(() => (flushing = undefined));
  };

  return {
    chunks: {
      bytes: SLOT_BYTES,
      take() {
        const slot = failed ? undefined : free.pop();
        if (slot === undefined) return Buffer.alloc(SLOT_BYTES);
        lent.add(slot);
        return feed.slotBuffers[slot]!;
      },
    },
    async write(chunk) {
      if (finished) throw new Error('zstd feed already finished');
      if (failed) return stop();
      const slot = feed.slotOf(chunk);
      if (slot >= 0 && lent.has(slot)) await takeBack(slot, chunk);
      else await gather(chunk);
      sinceLook += chunk.length;
      if (sinceLook >= OUTPUT_EVERY) {
        sinceLook = 0;
        lookAtOutput();
      }
    },
    async end() {
      if (finished) throw new Error('zstd feed already finished');
      try {
        if (failed) return await stop();
        send(); // the last slot, part full
        // A random run too short to be written raw goes to zstd, as does an input of nothing (zstd's empty frame).
        for (const h of held.splice(0)) queue(() => toZstd(h));
        queue(() => (framed ? undefined : toZstd()));
        await chain;
        if (failed) return await stop();
        const r = await feed.call({ type: 'diff-id', job }); // after every chunk: the worker answers in order
        if (failed) return await stop();
        await endChild();
        // The zstd started for a stretch that never came: killed before any input, it wrote nothing.
        if (nextChild) {
          launcher.kill();
          await (await nextChild.catch(() => undefined))?.exited;
        }
        launcher.close();
        await launcher.done();
        return { diffID: r.digest!, bytes: r.bytes! };
      } catch (e) {
        await abort();
        throw e;
      }
    },
    async hashFile(fd) {
      try {
        if (fd !== options.output) throw new Error('hashFile: not the file this feed wrote');
        await flushing;
        const r = await feed.call({ type: 'hash-file', fd, job, end: true });
        return { digest: r.digest!, size: r.bytes! };
      } finally {
        await abort();
      }
    },
    abort,
  };
}
