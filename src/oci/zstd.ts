// zstd layers through Debian's `zstd` CLI (Node 20's zlib has no zstd). Multi-threaded mode with fixed
// settings: its output depends on level and input only, not on the thread count (checked in tests).
import { spawn } from 'node:child_process';
import { closeSync, constants, fdatasync as fdatasyncCb, openSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { promisify } from 'node:util';
import { GamelayerError } from '../errors.js';
import { removeFifos, takeFifo } from './fifo-pool.js';
import { startOciWorker } from './worker-start.js';
import type { FeedReply, FeedRequest } from './zstd-feed-worker.js';

export { DEFAULT_ZSTD_LEVEL, zstdCompressorId, type ZstdOptions } from './compressor-id.js';
import { DEFAULT_ZSTD_LEVEL, zstdArgs, zstdMissing as missing, zstdVersion, type ZstdOptions } from './compressor-id.js';

/**
 * A duplex that zstd-compresses what is written to it. It ends only after zstd exited 0: a zstd
 * that fails half-way gives a stream error, never a truncated blob that looks complete.
 */
export function createZstd(options: ZstdOptions = {}): Duplex {
  const bin = options.bin ?? 'zstd';
  const child = spawn(bin, zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let outEnded = false;
  let exit: number | null | undefined;

  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin.write(chunk)) cb();
      else child.stdin.once('drain', () => cb());
    },
    final(cb) {
      child.stdin.end(cb);
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (exit === undefined) child.kill('SIGKILL');
      cb(err);
    },
  });
  const finish = () => {
    if (!outEnded || exit === undefined) return;
    if (exit === 0) duplex.push(null);
    else duplex.destroy(new GamelayerError('zstd.failed', `${bin} exited with ${exit}: ${stderr.trim()}`));
  };
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => {
    outEnded = true;
    finish();
  });
  child.on('error', (e) => duplex.destroy(missing(bin, e)));
  child.stdin.on('error', (e) => duplex.destroy(e));
  child.on('close', (code, signal) => {
    exit = code ?? (signal ? -1 : 0);
    finish();
  });
  return duplex;
}


/**
 * Tar bytes per slot of a feed, and slots per feed: the most a layer holds in flight towards zstd. A slot is sent
 * when full (the tar writer's 1 MiB chunks are gathered), so a message and a round of pipe writes carry 2 MiB.
 */
const SLOT_BYTES = 2 << 20;
const SLOTS = 4;

const fdatasync = promisify(fdatasyncCb);

type Request = FeedRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A worker thread of the zstd feed, with its shared slots; one layer uses it at a time. */
class FeedWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: FeedReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  readonly slots = Array.from({ length: SLOTS }, () => new SharedArrayBuffer(SLOT_BYTES));
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

/** Stops the zstd feed workers (tests, or a library caller that wants a clean exit right away). */
export async function closeZstdWorkers(): Promise<void> {
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
  /** Hands `chunk` to zstd; resolves once it was copied (the caller may reuse the buffer). Not concurrently. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the input and waits for zstd to exit 0; returns the sha256 (`diffID`) and size of all input. */
  end(): Promise<{ diffID: string; bytes: number }>;
  /** After `end`: sha256 and size of the output file (`options.output`), read from disk on the feed's thread. */
  hashFile(fd: number): Promise<{ digest: string; size: number }>;
  /** Stops zstd, waits for the feed's thread, drops the pipe. Safe at any time, and twice; `end`/`hashFile` call it. */
  abort(): Promise<void>;
}

export interface ZstdFileOptions extends ZstdOptions {
  /** File descriptor zstd writes the compressed bytes to (a blob's temp file). */
  output: number;
}

/**
 * zstd reading a named pipe and writing straight into a file. A worker thread hashes the input (the diffID) and
 * writes it into the pipe with plain blocking writes; the calling thread only copies each chunk into a shared slot.
 * Through a child's stdin pipe the calling thread made one non-blocking 64 KiB write and one poll per 64 KiB (5 s
 * of the main thread for 3.1 GB). The output never passes through Node. The bytes are those of `createZstd` (same
 * arguments; a pipe's size is unknown to zstd, as stdin's is: test/oci-zstd.test.ts).
 */
export async function startZstdToFile(options: ZstdFileOptions): Promise<ZstdFileFeed> {
  const bin = options.bin ?? 'zstd';
  const args = [...zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), ...(await ioArgs(bin))];
  const fifo = await takeFifo();
  let child;
  try {
    child = spawn(bin, [...args, fifo], { stdio: ['ignore', options.output, 'pipe'] });
  } catch (e) {
    await rm(fifo, { force: true });
    throw missing(bin, e as Error);
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exit: { code: number; signal?: string; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => ((exit ??= { code: -1, error: e }), resolve()));
    child.once('close', (code, signal) => ((exit ??= { code: code ?? (signal ? -1 : 0), signal: signal ?? undefined }), resolve()));
  });
  const failure = (): GamelayerError => {
    if (exit?.error) return missing(bin, exit.error);
    const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with ${exit?.code}`;
    return new GamelayerError('zstd.failed', `${bin} ${how}: ${stderr.trim() || 'no message'}`, 'the layer was not stored; run the build again, and check the zstd install if it fails again');
  };

  // The write end opens once zstd has opened the read end. For a zstd that never does (not installed, died at start)
  // a read end is opened here and held until that open returned, so it never waits for ever.
  let opened = false;
  const opening = open(fifo, 'w');
  void exited.then(() => {
    if (opened) return;
    let reader: number | undefined;
    try {
      reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return; // the pipe is gone: the open already returned
    }
    void opening.finally(() => closeSync(reader!)).catch(() => {});
  });
  let fh: FileHandle;
  try {
    fh = await opening;
    opened = true;
  } finally {
    await rm(fifo, { force: true });
  }
  if (exit) {
    await fh.close();
    await exited;
    throw failure();
  }

  const feed = idleFeeds.pop() ?? new FeedWorker();
  const job = nextJob++;
  allFeeds.add(feed);
  const free = feed.slots.map((_, i) => i);
  /** The slot being filled, and its bytes so far. */
  let filling: number | undefined;
  let filled = 0;
  const slotWaiters: (() => void)[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let failed: Error | undefined;
  let finished = false;

  /** Once anything failed: zstd's own exit status and message say why (a broken pipe is only the symptom). */
  const stop = async (e?: Error): Promise<never> => {
    failed ??= e ?? new Error('zstd feed stopped');
    // A broken pipe: zstd closed its input and is on its way out; killing it now would lose its exit status and message.
    if (!exit && (failed as NodeJS.ErrnoException).code === 'EPIPE') await Promise.race([exited, sleep(EXIT_GRACE_MS)]);
    if (!exit) child.kill('SIGKILL');
    await exited;
    throw exit && exit.code !== 0 ? failure() : failed;
  };

  const abort = async () => {
    if (finished) return;
    finished = true;
    failed ??= new Error('zstd feed aborted');
    if (!exit) child.kill('SIGKILL');
    await exited;
    await Promise.allSettled([...inFlight, flushing]);
    await fh.close().catch(() => {});
    // A worker that lost track (a write it never answered) is not handed to another layer.
    if (!feed.broken && inFlight.size === 0) idleFeeds.push(feed);
    else {
      allFeeds.delete(feed);
      void feed.terminate();
    }
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
      new Uint8Array(feed.slots[filling]!, filled, n).set(bytes.subarray(at, at + n));
      filled += n;
      at += n;
      if (filled === SLOT_BYTES) send();
    }
  };
  /** Hands the slot being filled to the feed's thread. */
  const send = () => {
    if (filling === undefined) return;
    const slot = filling;
    const length = filled;
    filling = undefined;
    const p = feed
      .call({ type: 'chunk', fd: fh.fd, job, slot, length })
      .then(
        () => {
          free.push(slot);
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
  };

  // Every OUTPUT_EVERY bytes of input, the feed's thread hashes what zstd wrote so far and the disk is asked to
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
    async write(chunk) {
      if (finished) throw new Error('zstd feed already finished');
      if (failed) return stop();
      await gather(chunk);
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
        const r = await feed.call({ type: 'diff-id', job }); // after every chunk: the worker answers in order
        if (failed) return await stop();
        await fh.close();
        await exited;
        if (exit?.code !== 0) throw failure();
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
