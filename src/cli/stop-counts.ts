// What a stopped `build --push` or `push` says it had done: the new layers packed and the blobs sent so far, counted
// from the reporter's tasks by one wrapper of the reporter for both phases.
import type { ProgressTask, Reporter } from '../report/reporter.js';

/** The new layers' packing so far: undefined before it starts (scanning, planning, reading the previous build). */
export interface Packed {
  bytes: number;
  total: number;
}

/** What the blob tasks of a push reported so far. */
export interface Sent {
  blobs: number;
  bytes: number;
  /** Bytes of uploads still running: cut by the stop. */
  running: number;
}

export interface StopCounts {
  packed?: Packed;
  sent: Sent;
}

/** A task whose ticks and end are also told to `counted`. */
function countedTask(task: ProgressTask, counted: { tick(n: number): void; done(summary?: string): void }): ProgressTask {
  const tracked: ProgressTask = {
    tick(n) {
      counted.tick(n);
      task.tick(n);
    },
    done(summary) {
      counted.done(summary);
      task.done(summary);
    },
  };
  if (task.skip) tracked.skip = (n) => task.skip!(n);
  return tracked;
}

/** `reporter`, counting into `counts` the build's `build N layers` tasks and a push's `blob <digest> (…)` tasks (in bytes). */
export function countingReporter(reporter: Reporter, counts: StopCounts): Reporter {
  return {
    info: (m) => reporter.info(m),
    warn: (m) => reporter.warn(m),
    ...(reporter.pushPlanned ? { pushPlanned: (n: number) => reporter.pushPlanned!(n) } : {}),
    task(label, total, unit, options) {
      const task = reporter.task(label, total, unit, options);
      if (unit !== 'bytes') return task;
      if (/^build \d+ layers?\b/.test(label)) {
        // Each platform's build packs its own layers: the stop line says them all.
        const packed = (counts.packed ??= { bytes: 0, total: 0 });
        packed.total += total;
        return countedTask(task, { tick: (n) => void (packed.bytes += n), done: () => {} });
      }
      if (!label.startsWith('blob ')) return task;
      const sent = counts.sent;
      let ticked = 0;
      return countedTask(task, {
        tick(n) {
          ticked += n;
          sent.running += n;
        },
        done(summary) {
          sent.running -= ticked;
          if (summary === 'uploaded' || summary === 'mounted') {
            sent.blobs++;
            sent.bytes += ticked;
          }
        },
      });
    },
  };
}
