// Ctrl-C (or a CI's SIGTERM) during a push ended the process at once, exit 130, without a word: what had reached the
// registry, and whether running it again starts over, were left to guess. While a push runs, the blob uploads are
// counted and a stop prints one line saying what went up and that the same command resumes (the registry's blobs
// are not sent again; a big layer's upload kept in .gamelayer/uploads/ continues where the registry still holds it).
import { count } from '../report/plural.js';
import { formatBytes, type ProgressTask, type Reporter } from '../report/reporter.js';
import { onStopSignal, signalName, type StopSignal } from './stop-signal.js';

/** What the blob tasks of a push reported so far. */
interface Sent {
  blobs: number;
  bytes: number;
  /** Bytes of uploads still running: cut by the stop. */
  running: number;
}

/** The line a stopped push prints. */
export function interruptedText(signal: StopSignal, sent: Sent): string {
  const how = signalName(signal);
  const done = sent.blobs ? `${count(sent.blobs, 'blob')} (${formatBytes(sent.bytes)}) had reached the registry` : 'no blob had reached the registry yet';
  const cut = sent.running > 0 ? `, ${formatBytes(sent.running)} of unfinished uploads were cut` : '';
  return `push stopped by ${how}: ${done}${cut}; run the same command again to resume: what the registry holds is not sent again`;
}

/** A reporter that counts the push's blob tasks (`blob <digest> (…)`, in bytes) into `sent`. */
function countingReporter(reporter: Reporter, sent: Sent): Reporter {
  return {
    info: (m) => reporter.info(m),
    warn: (m) => reporter.warn(m),
    ...(reporter.pushPlanned ? { pushPlanned: (n: number) => reporter.pushPlanned!(n) } : {}),
    task(label, total, unit, options) {
      const task = reporter.task(label, total, unit, options);
      if (unit !== 'bytes' || !label.startsWith('blob ')) return task;
      let ticked = 0;
      const counted: ProgressTask = {
        tick(n) {
          ticked += n;
          sent.running += n;
          task.tick(n);
        },
        done(summary) {
          sent.running -= ticked;
          if (summary === 'uploaded' || summary === 'mounted') {
            sent.blobs++;
            sent.bytes += ticked;
          }
          task.done(summary);
        },
      };
      if (task.skip) counted.skip = (n) => task.skip!(n);
      return counted;
    },
  };
}

/**
 * Runs a push with the reporter it should use; a SIGINT or SIGTERM meanwhile prints `interruptedText` on stderr and
 * exits as the signal would (130, 143). The handlers go when the push ends.
 */
export async function withPushInterrupt<T>(reporter: Reporter, push: (reporter: Reporter) => Promise<T>): Promise<T> {
  const sent: Sent = { blobs: 0, bytes: 0, running: 0 };
  const off = onStopSignal((signal) => interruptedText(signal, sent));
  try {
    return await push(countingReporter(reporter, sent));
  } finally {
    off();
  }
}
