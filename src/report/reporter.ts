// One reporter interface for progress and logs, so a TTY, a CodeBuild log and a test each get what they need.
import { createRequire } from 'node:module';
import type cliProgressTypes from 'cli-progress';
import { visibleControls } from './printable.js';

// Loaded with the first bar, not with this module: every command imports the reporter, few draw bars on a TTY
// (start-up time, bench/README.md "Peers").
let progressModule: typeof cliProgressTypes | undefined;
const cliProgress = () => (progressModule ??= createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes);

export interface ProgressTask {
  /** Advance by `n` units (bytes or items). */
  tick(n: number): void;
  /**
   * Advance by `n` units that took no work (found in a cache, already in the registry): the bar moves, but a rate
   * counts only what was ticked, so a cached tree is not reported at "230000 MB/s".
   */
  skip?(n: number): void;
  /** Mark the task finished; `summary` is printed once in plain mode. */
  done(summary?: string): void;
}

export interface TaskOptions {
  /**
   * A long task of many items (prune's deletes): in plain output (CI logs, pipes) it also prints progress lines while
   * it runs, at each tenth of its total (from PROGRESS_TENTHS_MIN items) and every PROGRESS_LINE_MS while it moves;
   * a silent minute read as a hang. Byte tasks always get them (PROGRESS_BYTES_TENTHS_MIN).
   */
  progressLines?: boolean;
}

/** The longest pause between two progress lines of a moving task in plain output. */
export const PROGRESS_LINE_MS = 10_000;
/** Tasks of fewer items get no line per tenth (a line per item or two), only the time-based ones. */
export const PROGRESS_TENTHS_MIN = 100;
/**
 * Byte tasks (hashing a tree, building layers, uploading a blob) of this size or more get a line at each tenth in plain
 * output; every byte task gets the time-based ones. A CI log (CodeBuild) otherwise showed nothing for the minutes a
 * 40 GiB tree took to hash or a 10 GiB layer to compress and upload: a silent build read as a hung one.
 */
export const PROGRESS_BYTES_TENTHS_MIN = 256 * 1024 * 1024;

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /** Start a long-running task with a known total (bytes when unit is 'bytes'). */
  task(label: string, total: number, unit: 'bytes' | 'items', options?: TaskOptions): ProgressTask;
  /**
   * The bytes a push's coming blob tasks add up to, announced before the first of them starts (added to what was
   * announced before): the push bar's total is known at once instead of growing as uploads start.
   */
  pushPlanned?(bytes: number): void;
}

const noopTask: ProgressTask = { tick() {}, done() {} };

/** Swallows everything: for library callers and --json runs. */
export const silentReporter: Reporter = {
  info() {},
  warn() {},
  task: () => noopTask,
};

/** Line-oriented output for CI logs (CodeBuild) and pipes: no bars, one line per finished task, with its size. */
export function plainReporter(out: NodeJS.WritableStream = process.stderr): Reporter {
  return {
    info: (m) => out.write(`${m}\n`),
    // A warning echoes file names and registry text: an escape sequence in one is shown, not acted on (as errors).
    warn: (m) => out.write(`warning: ${visibleControls(m)}\n`),
    task(label, total, unit, options) {
      const started = Date.now();
      // Bytes read or sent (the rate), and the position: those plus the bytes skipped (cached, mounted).
      let worked = 0;
      let moved = 0;
      const bytes = unit === 'bytes';
      const lines = total > 0 && (bytes || options?.progressLines === true);
      const tenths = bytes ? total >= PROGRESS_BYTES_TENTHS_MIN : total >= PROGRESS_TENTHS_MIN;
      let tenth = 0;
      let lastLine = started;
      const advance = (n: number) => {
        moved += n;
        if (!lines) return;
        const at = Math.min(moved, total);
        const now = Date.now();
        const reached = Math.floor((at * 10) / total);
        // The line at 100% is done()'s.
        if (at < total && ((reached > tenth && tenths) || now - lastLine >= PROGRESS_LINE_MS)) {
          tenth = Math.max(tenth, reached);
          lastLine = now;
          const amount = bytes ? `${formatBytes(at)}/${formatBytes(total)}` : `${at}/${total}`;
          out.write(`${label}: ${amount} (${Math.floor((at * 100) / total)}%)\n`);
        }
      };
      return {
        tick(n) {
          worked += n;
          advance(n);
        },
        skip: advance,
        done(summary) {
          const ms = Date.now() - started;
          const size = unit === 'bytes' ? ` ${formatBytes(total)}` : '';
          // The rate of the bytes the task read or sent, not of its total: cached or mounted bytes took no time.
          const rate = unit === 'bytes' && worked > 0 && ms > 0 ? `, ${formatRate(Math.min(worked, total), ms)}` : '';
          out.write(`${label}: ${summary ?? 'done'}${size} (${(ms / 1000).toFixed(2)}s${rate})\n`);
        },
      };
    },
  };
}

const closers = new Set<() => void>();

/** Stops every terminal reporter's bars (their render timer would keep the process alive); the CLI calls it at the end. */
export function closeReporters(): void {
  for (const c of closers) c();
  closers.clear();
}

/** A push's blob task: `blob <digest12>` or `blob <digest12> (<image>)`; its bytes count toward the push. */
const PUSH_TASK = /^blob [0-9a-f]{6,}(?: \((.+)\))?$/;

/**
 * Progress bars on a terminal. The blobs of a push do not get a bar each: they feed one overall push bar (bytes,
 * MB/s, ETA) and, on terminals of 120 columns or more, one bar per image. Every line fits the terminal's width.
 */
export function ttyReporter(out: NodeJS.WriteStream = process.stderr): Reporter {
  const columns = out.columns || 80;
  const wide = columns >= 120;
  // One board while anything shows; a new one after it stopped (a stopped board does not draw again).
  let board: cliProgressTypes.MultiBar | undefined;
  const bars = () =>
    (board ??= new (cliProgress().MultiBar)(
      {
        stream: out,
        clearOnComplete: false,
        hideCursor: true,
        format: ' {label} |{bar}| {percentage}% {amount}',
        barsize: wide ? 30 : 16,
        fps: 10,
        linewrap: false,
        // Logs above the bars overwrite their lines: every bar must be drawn again each time, changed or not.
        forceRedraw: true,
      },
      cliProgress().Presets.shades_classic,
    ));
  let open = 0;
  // The push: its total is what was announced (pushPlanned) or, past that, what blob tasks started.
  let push: { bar: cliProgressTypes.SingleBar; total: number; value: number; started: number; tasks: number } | undefined;
  // Bytes announced (pushPlanned) and bytes of blob tasks started: the bar's total is the larger, so it never
  // grows while announced uploads start.
  let planned = 0;
  let started = 0;
  const images = new Map<string, { bar: cliProgressTypes.SingleBar; total: number; value: number }>();
  const stopBoard = () => {
    board?.stop();
    board = undefined;
    open = 0;
    push = undefined;
    planned = 0;
    started = 0;
    images.clear();
  };
  const closeOne = () => {
    if (--open === 0) stopBoard();
  };
  // The push bars stay until the command ends (more images may follow): closeReporters() stops them, and so does
  // the command's own output on stdout (the bars' redraw would write over it on the same terminal).
  const stopAll = () => {
    if (open > 0) stopBoard();
  };
  closers.add(stopAll);
  const stdoutWrite = process.stdout.write;
  if (process.stdout.isTTY) {
    process.stdout.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof stdoutWrite>) {
      stopAll();
      return stdoutWrite.apply(this, args);
    } as typeof stdoutWrite;
    closers.add(() => {
      process.stdout.write = stdoutWrite;
    });
  }
  /** Log lines above the bars, cut into lines of the terminal's width: a wrapped line would throw off the redraw. */
  const log = (m: string) => {
    if (open === 0) return void out.write(`${m}\n`);
    const chunks: string[] = [];
    for (const line of m.split('\n')) for (let i = 0; i === 0 || i < line.length; i += columns - 1) chunks.push(line.slice(i, i + columns - 1).padEnd(columns - 1));
    bars().log(`${chunks.join('\n')}\n`);
  };
  const pushAmount = () => {
    const p = push!;
    const ms = Date.now() - p.started;
    const rate = ms > 0 && p.value > 0 ? p.value / ms : 0;
    const eta = rate > 0 ? (p.total - p.value) / rate : undefined;
    return `${formatBytes(p.value)}/${formatBytes(p.total)} ${rate > 0 ? formatRate(p.value, ms) : '-- MB/s'} ETA ${eta === undefined ? '--' : formatDuration(eta)}`;
  };
  const labelWidth = wide ? 22 : 14;
  const fit = (label: string, width: number) => (label.length > width ? `${label.slice(0, width - 1)}…` : label.padEnd(width));
  return {
    info: log,
    warn: (m) => log(`warning: ${visibleControls(m)}`),
    pushPlanned(bytes) {
      planned += bytes;
      if (!push) return;
      push.total = Math.max(planned, started);
      push.bar.setTotal(Math.max(push.total, 1));
    },
    task(label, total, unit) {
      const pushTask = unit === 'bytes' ? PUSH_TASK.exec(label) : null;
      if (pushTask) {
        if (!push) {
          open++;
          push = { bar: bars().create(1, 0, { label: fit('push', labelWidth), amount: '' }), total: 0, value: 0, started: Date.now(), tasks: 0 };
        }
        const p = push;
        started += total;
        p.total = Math.max(planned, started);
        p.tasks++;
        p.bar.setTotal(Math.max(p.total, 1));
        p.bar.update(p.value, { amount: pushAmount() });
        const name = pushTask[1] ?? 'image';
        let image = images.get(name);
        if (wide) {
          if (!image) {
            open++;
            image = { bar: bars().create(1, 0, { label: fit(`  ${name}`, labelWidth), amount: '' }), total: 0, value: 0 };
            images.set(name, image);
          }
          image.total += total;
          image.bar.setTotal(Math.max(image.total, 1));
          image.bar.update(image.value, { amount: `${formatBytes(image.value)}/${formatBytes(image.total)}` });
        }
        let sent = 0;
        return {
          tick(n) {
            sent += n;
            p.value += n;
            p.bar.update(Math.min(p.value, Math.max(p.total, 1)), { amount: pushAmount() });
            if (image) {
              image.value += n;
              image.bar.update(Math.min(image.value, Math.max(image.total, 1)), { amount: `${formatBytes(image.value)}/${formatBytes(image.total)}` });
            }
          },
          done() {
            // A blob that was mounted or already there sent nothing: its bytes still count as done.
            const rest = Math.max(0, total - sent);
            p.value += rest;
            p.bar.update(Math.min(p.value, Math.max(p.total, 1)), { amount: pushAmount() });
            if (image) {
              image.value += rest;
              image.bar.update(Math.min(image.value, Math.max(image.total, 1)), { amount: `${formatBytes(image.value)}/${formatBytes(image.total)}` });
            }
          },
        };
      }
      open++;
      let value = 0;
      const fmt = (v: number) => (unit === 'bytes' ? formatBytes(v) : String(v));
      const bar = bars().create(Math.max(total, 1), 0, { label: fit(label, labelWidth), amount: `${fmt(0)}/${fmt(total)}` });
      const tick = (n: number) => {
        value += n;
        bar.update(Math.min(value, Math.max(total, 1)), { amount: `${fmt(value)}/${fmt(total)}` });
      };
      return {
        tick,
        skip: tick,
        done(summary) {
          bar.update(Math.max(total, 1), { amount: summary ?? `${fmt(value)}` });
          bar.stop();
          closeOne();
        },
      };
    },
  };
}

/** TTY bars when attached to a terminal and not in CI, plain lines otherwise. */
export function defaultReporter(): Reporter {
  const interactive = process.stderr.isTTY && !process.env.CI && !process.env.CODEBUILD_BUILD_ID;
  return interactive ? ttyReporter() : plainReporter();
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** Throughput as people read it on a network: MB/s (10^6 bytes), one decimal. */
export function formatRate(bytes: number, ms: number): string {
  return `${((bytes / 1e6) / Math.max(ms / 1000, 0.001)).toFixed(1)} MB/s`;
}

/** 45s, 3m05s, 1h02m. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
