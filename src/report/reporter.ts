// One reporter interface for progress and logs, so a TTY, a CodeBuild log and a test each get what they need.
import cliProgress from 'cli-progress';

export interface ProgressTask {
  /** Advance by `n` units (bytes or items). */
  tick(n: number): void;
  /** Mark the task finished; `summary` is printed once in plain mode. */
  done(summary?: string): void;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /** Start a long-running task with a known total (bytes when unit is 'bytes'). */
  task(label: string, total: number, unit: 'bytes' | 'items'): ProgressTask;
}

const noopTask: ProgressTask = { tick() {}, done() {} };

/** Swallows everything: for library callers and --json runs. */
export const silentReporter: Reporter = {
  info() {},
  warn() {},
  task: () => noopTask,
};

/** Line-oriented output for CI logs (CodeBuild) and pipes: no bars, one line per finished task. */
export function plainReporter(out: NodeJS.WritableStream = process.stderr): Reporter {
  return {
    info: (m) => out.write(`${m}\n`),
    warn: (m) => out.write(`warning: ${m}\n`),
    task(label) {
      const started = Date.now();
      return {
        tick() {},
        done(summary) {
          const secs = ((Date.now() - started) / 1000).toFixed(2);
          out.write(`${label}: ${summary ?? 'done'} (${secs}s)\n`);
        },
      };
    },
  };
}

/** Progress bars on a terminal. */
export function ttyReporter(out: NodeJS.WriteStream = process.stderr): Reporter {
  const bars = new cliProgress.MultiBar(
    {
      stream: out,
      clearOnComplete: false,
      hideCursor: true,
      format: ' {label} |{bar}| {percentage}% {amount}',
      barsize: 24,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let open = 0;
  return {
    info: (m) => (open > 0 ? bars.log(`${m}\n`) : out.write(`${m}\n`)),
    warn: (m) => (open > 0 ? bars.log(`warning: ${m}\n`) : out.write(`warning: ${m}\n`)),
    task(label, total, unit) {
      open++;
      let value = 0;
      const fmt = (v: number) => (unit === 'bytes' ? formatBytes(v) : String(v));
      const bar = bars.create(Math.max(total, 1), 0, { label: label.padEnd(14), amount: `${fmt(0)}/${fmt(total)}` });
      return {
        tick(n) {
          value += n;
          bar.update(Math.min(value, Math.max(total, 1)), { amount: `${fmt(value)}/${fmt(total)}` });
        },
        done(summary) {
          bar.update(Math.max(total, 1), { amount: summary ?? `${fmt(value)}` });
          bar.stop();
          if (--open === 0) bars.stop();
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
