// The `zstd` processes of a zstd layer: one for each stretch of the tar between raw runs (zstd-raw.ts), each reading
// a named pipe (fifo-pool.ts) and writing the blob's temp file itself, at the file offset the layer's writers share.
// They are started by a small shell of the layer's own: a spawn from Node forks the whole build process (page tables
// of some 200 MB, then copy-on-write faults in every thread), measured at 0.5 s of CPU for the 40 zstd processes of
// the 3.1 GB game; the shell forks only itself. A zstd may start before the one before it exits: one that has had no
// input has written nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { constants as os } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { zstdMissing as missing } from './compressor-id.js';
import { takeFifo } from './fifo-pool.js';

/** One zstd of the layer, from the start of its input to its exit. */
export interface ZstdChild {
  /** The write end of the pipe zstd reads. */
  readonly pipe: FileHandle;
  /** Settles once this zstd is gone (never rejects). */
  readonly exited: Promise<void>;
  /** Set once it is gone. */
  exit(): Exit | undefined;
  /** The error its exit status and message make. */
  failure(): GamelayerError;
  /** Kills it (and the layer's shell: a killed zstd ends the layer). */
  kill(): void;
}

interface Exit {
  code: number;
  signal?: string;
  error?: Error;
}

/**
 * Reads lines of pipe paths and starts `bin args… <pipe>` for each, with stdout the blob; writes `<exit status>
 * <pipe>` on fd 3 when one ends (a line under PIPE_BUF: written whole). zstd gets no stdin and no fd 3. At the end of
 * its input the shell waits for the ones still running.
 */
const SCRIPT = 'bin=$1; shift\nwhile IFS= read -r fifo; do ( "$bin" "$@" "$fifo" </dev/null 3>&-; echo "$? $fifo" >&3 ) & done\nwait';

/** Where `bin` is (as spawn would find it), or undefined. */
function findBinary(bin: string): string | undefined {
  const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, bin));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The shell that starts a layer's zstd processes; `next` starts one. */
export class ZstdLauncher {
  private shell: ChildProcess | undefined;
  private stderr = '';
  /** The zstd processes running, by pipe: what their status line settles. */
  private readonly waiting = new Map<string, (e: Exit) => void>();
  private gone: Exit | undefined;
  private statusBuffer = '';

  constructor(
    private readonly bin: string,
    private readonly args: string[],
    private readonly output: number,
  ) {}

  private start(): ChildProcess {
    if (!findBinary(this.bin)) throw missing(this.bin, Object.assign(new Error(`spawn ${this.bin} ENOENT`), { code: 'ENOENT' }));
    let shell: ChildProcess;
    try {
      // Its own process group: killing the layer kills the shell and the zstd it runs.
      shell = spawn('/bin/sh', ['-c', SCRIPT, 'sh', this.bin, ...this.args], { stdio: ['pipe', this.output, 'pipe', 'pipe'], detached: true });
    } catch (e) {
      throw missing('/bin/sh', e as Error);
    }
    shell.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    (shell.stdio[3] as Readable).on('data', (d: Buffer) => {
      this.statusBuffer += d.toString();
      for (let nl = this.statusBuffer.indexOf('\n'); nl >= 0; nl = this.statusBuffer.indexOf('\n')) {
        const line = this.statusBuffer.slice(0, nl);
        this.statusBuffer = this.statusBuffer.slice(nl + 1);
        const space = line.indexOf(' ');
        const code = Number(line.slice(0, space));
        // As a shell says it: a zstd killed by a signal exits with 128 + its number.
        const signal = code > 128 ? Object.entries(os.signals).find(([, n]) => n === code - 128)?.[0] : undefined;
        this.settle(line.slice(space + 1), { code, signal });
      }
    });
    shell.stdin!.on('error', () => {}); // the shell is gone: its exit says so
    shell.once('error', (e) => this.end({ code: -1, error: e }));
    shell.once('close', (code, signal) => this.end({ code: code ?? -1, signal: signal ?? undefined }));
    return shell;
  }

  private settle(fifo: string, e: Exit): void {
    const w = this.waiting.get(fifo);
    this.waiting.delete(fifo);
    w?.(e);
  }

  private end(e: Exit): void {
    this.gone ??= e;
    for (const fifo of [...this.waiting.keys()]) this.settle(fifo, e.code === 0 && !e.signal ? { code: -1, signal: e.signal } : e);
  }

  /** Starts a zstd; resolves once both ends of its pipe are open. */
  async next(): Promise<ZstdChild> {
    if (this.gone) throw this.failureOf(this.gone);
    const shell = (this.shell ??= this.start());
    const fifo = await takeFifo();
    // The shell may have ended while the pipe was made (a layer's end kills the one started ahead; mkfifo is a fork,
    // slow at high load): its end settled only the pipes registered then, so this one would be waited on for ever.
    if (this.gone) {
      await rm(fifo, { force: true });
      throw this.failureOf(this.gone);
    }
    let exit: Exit | undefined;
    const exited = new Promise<void>((resolve) => {
      this.waiting.set(fifo, (e) => ((exit ??= e), resolve()));
    });
    shell.stdin!.write(`${fifo}\n`);
    // The write end opens once zstd has opened the read end. For a zstd that never does (broken, died at start) a
    // read end is opened here and held until that open returned, so it never waits for ever.
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
    let pipe: FileHandle;
    try {
      pipe = await opening;
      opened = true;
    } finally {
      await rm(fifo, { force: true });
    }
    const failure = () => this.failureOf(exit);
    if (exit) {
      await pipe.close();
      throw failure();
    }
    return { pipe, exited, exit: () => exit, failure, kill: () => this.kill() };
  }

  private failureOf(exit: Exit | undefined): GamelayerError {
    if (exit?.error) return missing(this.bin, exit.error);
    const how = exit?.signal ? `was killed by ${exit.signal}` : `exited with ${exit?.code}`;
    return new GamelayerError('zstd.failed', `${this.bin} ${how}: ${this.stderr.trim() || 'no message'}`, 'the layer was not stored; run the build again, and check the zstd install if it fails again');
  }

  /** No more zstd processes: the shell reads the end of its input and exits once those running have. */
  close(): void {
    this.shell?.stdin!.end();
  }

  /** Kills the shell and its zstd processes (its process group). */
  kill(): void {
    const pid = this.shell?.pid;
    if (pid === undefined || this.gone) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Resolves once the shell is gone (after `close` or `kill`). */
  async done(): Promise<void> {
    const shell = this.shell;
    if (!shell || this.gone) return;
    await new Promise<void>((resolve) => shell.once('close', () => resolve()));
  }
}
