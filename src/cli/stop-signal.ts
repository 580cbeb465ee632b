// A Ctrl-C (or a CI's SIGTERM) while a long phase of a command runs: one line on stderr saying what was done and what
// running again does, then the exit the signal would give (130, 143). Node's default ends the process without a word.

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNAL_NUMBERS;

/** How a stop line names the signal: Ctrl-C for SIGINT. */
export function signalName(signal: StopSignal): string {
  return signal === 'SIGINT' ? 'Ctrl-C' : signal;
}

/**
 * Until the returned function is called, a SIGINT or SIGTERM prints `line(signal)` on stderr and exits as the
 * signal would.
 */
export function onStopSignal(line: (signal: StopSignal) => string): () => void {
  const onSignal = (signal: StopSignal) => {
    // On a terminal the line starts below the progress bars (and the ^C the terminal echoed).
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${line(signal)}\n`);
    process.exit(128 + SIGNAL_NUMBERS[signal]);
  };
  const handlers = (Object.keys(SIGNAL_NUMBERS) as StopSignal[]).map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
