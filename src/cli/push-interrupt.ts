// Ctrl-C (or a CI's SIGTERM) during a push ended the process at once, exit 130, without a word: what had reached the
// registry, and whether running it again starts over, were left to guess. While a push runs, the blob uploads are
// counted and a stop prints one line saying what went up and that the same command resumes (the registry's blobs
// are not sent again; a big layer's upload kept in .gamelayer/uploads/ continues where the registry still holds it).
import { count } from '../report/plural.js';
import { formatBytes, type Reporter } from '../report/reporter.js';
import { countingReporter, type Sent, type StopCounts } from './stop-counts.js';
import { onStopSignal, signalName, type StopSignal } from './stop-signal.js';

/** The line a stopped push prints. */
export function interruptedText(signal: StopSignal, sent: Sent): string {
  const how = signalName(signal);
  const done = sent.blobs ? `${count(sent.blobs, 'blob')} (${formatBytes(sent.bytes)}) had reached the registry` : 'no blob had reached the registry yet';
  const cut = sent.running > 0 ? `, ${formatBytes(sent.running)} of unfinished uploads were cut` : '';
  return `push stopped by ${how}: ${done}${cut}; run the same command again to resume: what the registry holds is not sent again`;
}

/**
 * Runs a push with the reporter it should use; a SIGINT or SIGTERM meanwhile prints `interruptedText` on stderr and
 * exits as the signal would (130, 143). The handlers go when the push ends.
 */
export async function withPushInterrupt<T>(reporter: Reporter, push: (reporter: Reporter) => Promise<T>): Promise<T> {
  const counts: StopCounts = { sent: { blobs: 0, bytes: 0, running: 0 } };
  const off = onStopSignal((signal) => interruptedText(signal, counts.sent));
  try {
    return await push(countingReporter(reporter, counts));
  } finally {
    off();
  }
}
