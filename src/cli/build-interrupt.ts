// Ctrl-C (or a CI's SIGTERM) while `build --push` is still building ended the process, exit 130, without a word; a stop
// during its push says what went up (push-interrupt.ts). A stop before the push says how far the build got, that
// nothing was pushed, and that running again reuses what was built (the layers finished are in the local store, the
// scan's hashes in its cache).
import { formatBytes, type ProgressTask, type Reporter } from '../report/reporter.js';
import { onStopSignal, signalName, type StopSignal } from './stop-signal.js';

/** The new layers' packing so far: undefined before it starts (scanning, planning, reading the previous build). */
interface Packed {
  bytes: number;
  total: number;
}

/** The line a `build --push` stopped before its push prints. */
export function buildInterruptedText(signal: StopSignal, packed: Packed | undefined, repositories: readonly string[]): string {
  const done = packed ? `${formatBytes(packed.bytes)} of ${formatBytes(packed.total)} of new layers packed` : 'no layer packed yet';
  return (
    `build stopped by ${signalName(signal)} before the push: ${done}; nothing was pushed to ${repositories.join(', ')}; ` +
    'run the same command again: the layers finished and the scanned hashes are reused, not built again'
  );
}

/**
 * From now until `off()` (called before the push, which says its own line), a SIGINT or SIGTERM prints
 * `buildInterruptedText` and exits as the signal would. `reporter` is the one the build runs with: it counts the
 * new layers' bytes (the `build N layers` task).
 */
export function armBuildInterrupt(reporter: Reporter, repositories: readonly string[]): { reporter: Reporter; off: () => void } {
  let packed: Packed | undefined;
  const off = onStopSignal((signal) => buildInterruptedText(signal, packed, repositories));
  const counting: Reporter = {
    ...reporter,
    info: (m) => reporter.info(m),
    warn: (m) => reporter.warn(m),
    task(label, total, unit, options) {
      const task = reporter.task(label, total, unit, options);
      if (unit !== 'bytes' || !/^build \d+ layers?\b/.test(label)) return task;
      // Each platform's build packs its own layers: the stop line says them all.
      const counted = (packed ??= { bytes: 0, total: 0 });
      counted.total += total;
      const tracked: ProgressTask = {
        tick(n) {
          counted.bytes += n;
          task.tick(n);
        },
        done: (summary) => task.done(summary),
      };
      if (task.skip) tracked.skip = (n) => task.skip!(n);
      return tracked;
    },
  };
  return { reporter: counting, off };
}
