// The `zstd` processes of a zstd layer: one for each stretch of the tar between raw runs (zstd-raw.ts), each reading
// a named pipe (fifo-pool.ts) and appending to the blob's temp file itself (the layer's writers write in turn, each at
// the file's end: raw frames only after the zstd before them exited, a zstd started ahead only after its input came).
// They are started by the build's perl launcher (zstd-host.ts), or, without perl, by a small shell of the layer's own:
// a spawn from Node forks the whole build process (page tables of some 200 MB, then copy-on-write faults in every
// thread), measured at 0.5 s of CPU for the 40 zstd processes of the 3.1 GB game; those launchers fork only themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { constants as os } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { onLines, tailOf } from '../util/child-output.js';
import { zstdMissing as missing } from './compressor-id.js';
import { fifoName, takeFifo } from './fifo-pool.js';
import { ZstdHost } from './zstd-host.js';

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
  /** Kills the layer's zstd processes: a killed zstd ends the layer. */
  kill(): void;
}

interface Exit {
  code: number;
  signal?: string;
  error?: Error;
  /** Its own stderr (the build's launcher keeps each zstd's apart). */
  message?: string;
}

/**
 * Without perl: reads lines of pipe paths and starts `bin args… <pipe >>out` for each; writes `<exit status> <pipe>`
 * on fd 3 when one ends (a line under PIPE_BUF: written whole). zstd gets no fd 3. At the end of its input the shell
 * waits for the ones still running.
 */
const SCRIPT = 'bin=$1; out=$2; shift 2\nwhile IFS= read -r fifo; do ( "$bin" "$@" <"$fifo" >>"$out" 3>&-; echo "$? $fifo" >&3 ) & done\nwait';

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

/**
 * The build's perl launcher, started with the first zstd layer (while the build is small); null once perl was not
 * found (not looked for again on each zstd start: a walk of PATH each time).
 */
let host: ZstdHost | null | undefined;
function buildHost(): ZstdHost | undefined {
  if (host === null) return undefined;
  if (host?.alive()) return host;
  const perl = findBinary('perl');
  host = perl ? new ZstdHost(perl) : null;
  return host ?? undefined;
}

/** Ends the build's launcher once its zstd processes have (closeZstdWorkers; at exit it ends with its input anyway). */
export async function closeZstdHost(): Promise<void> {
  const h = host;
  host = undefined;
  await h?.close();
}

/** As a shell says it: a zstd killed by a signal exits with 128 + its number. */
const signalOf = (code: number) => (code > 128 ? Object.entries(os.signals).find(([, n]) => n === code - 128)?.[0] : undefined);

/** Starts a layer's zstd processes, writing into the blob's temp file (`output`, a descriptor of this process). */
export class ZstdLauncher {
  private shell: ChildProcess | undefined;
  /** The end of the shell's stderr (its zstd processes' too), once it was started. */
  private stderr = () => '';
  /** Without perl: the zstd processes running, by pipe: what their status line settles. */
  private readonly waiting = new Map<string, (e: Exit) => void>();
  /** With the build's launcher: the zstd processes started and not yet gone, to kill and wait for. */
  private readonly live = new Set<{ exited: Promise<unknown>; kill: () => void }>();
  private gone: Exit | undefined;
  /** `bin` as found on PATH now (the build's launcher outlives a change of PATH). */
  private found: string | undefined;
  /** The blob's temp file as the launcher opens it again, for appending (not through this descriptor's offset). */
  private readonly outputPath: string;

  constructor(
    private readonly bin: string,
    private readonly args: string[],
    output: number,
    outputPath?: string,
  ) {
    this.outputPath = outputPath ?? `/proc/${process.pid}/fd/${output}`;
  }

  private startShell(): ChildProcess {
    let shell: ChildProcess;
    try {
      // Its own process group: killing the layer kills the shell and the zstd it runs.
      shell = spawn('/bin/sh', ['-c', SCRIPT, 'sh', this.found!, this.outputPath, ...this.args], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      throw missing('/bin/sh', e as Error);
    }
    this.stderr = tailOf(shell.stderr!);
    onLines(shell.stdio[3] as Readable, (line) => {
      const space = line.indexOf(' ');
      const code = Number(line.slice(0, space));
      this.settle(line.slice(space + 1), { code, signal: signalOf(code) });
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

  /** Starts a zstd through the build's launcher, or (without perl) the layer's shell; the pipe and its exit. */
  private async launch(): Promise<{ fifo: string; exited: Promise<Exit> }> {
    const h = buildHost();
    if (h) {
      const fifo = fifoName();
      const started = h.start(this.found!, this.args, fifo, this.outputPath, `${fifo}.err`);
      const entry = { exited: started.exited, kill: started.kill };
      this.live.add(entry);
      const exited = started.exited.then((e): Exit => {
        this.live.delete(entry);
        return { code: e.code, signal: signalOf(e.code), message: e.message };
      });
      await started.made.catch(async (e: Error) => {
        throw new GamelayerError('zstd.failed', `cannot start ${this.bin}: ${e.message}`, 'the layer was not stored; run the build again');
      });
      return { fifo, exited };
    }
    const shell = (this.shell ??= this.startShell());
    const fifo = await takeFifo();
    // The shell may have ended while the pipe was made (a layer's end kills the one started ahead; mkfifo is a fork,
    // slow at high load): its end settled only the pipes registered then, so this one would be waited on for ever.
    if (this.gone) {
      await rm(fifo, { force: true });
      throw this.failureOf(this.gone);
    }
    const exited = new Promise<Exit>((resolve) => this.waiting.set(fifo, resolve));
    shell.stdin!.write(`${fifo}\n`);
    return { fifo, exited };
  }

  /** Starts a zstd; resolves once both ends of its pipe are open. */
  async next(): Promise<ZstdChild> {
    if (this.gone) throw this.failureOf(this.gone);
    this.found ??= findBinary(this.bin);
    if (!this.found) throw missing(this.bin, Object.assign(new Error(`spawn ${this.bin} ENOENT`), { code: 'ENOENT' }));
    const { fifo, exited: exitOf } = await this.launch();
    let exit: Exit | undefined;
    const exited = exitOf.then((e) => void (exit ??= e));
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
    const message = (exit?.message ?? this.stderr()).trim();
    return new GamelayerError('zstd.failed', `${this.bin} ${how}: ${message || 'no message'}`, 'the layer was not stored; run the build again, and check the zstd install if it fails again');
  }

  /** No more zstd processes: the layer's shell reads the end of its input and exits once those running have. */
  close(): void {
    this.shell?.stdin!.end();
  }

  /** Kills the layer's zstd processes (and its shell, with them: its process group). */
  kill(): void {
    for (const z of this.live) z.kill();
    const pid = this.shell?.pid;
    if (pid === undefined || this.gone) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Resolves once the layer's zstd processes are gone (after `close` or `kill`). */
  async done(): Promise<void> {
    await Promise.all([...this.live].map((z) => z.exited));
    const shell = this.shell;
    if (!shell || this.gone) return;
    await new Promise<void>((resolve) => shell.once('close', () => resolve()));
  }
}
