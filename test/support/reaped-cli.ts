// The CLI for tests that may leave it blocked (on a FIFO, say) when the code under test is wrong: every run still
// going after a test is killed, so a failing case fails alone instead of leaving processes behind.
import { afterEach } from 'vitest';
import { startCli, type CliOptions, type CliResult, type RunningCli } from './cli-process.js';

/** Registers the afterEach that kills what is left; returns `run(args, cwd, opts?)`, which resolves when the CLI ends. */
export function useReapedCli(): (args: string[], cwd: string, opts?: CliOptions) => Promise<CliResult> {
  const running: RunningCli[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  });
  return (args, cwd, opts = {}) => {
    const r = startCli(args, { ...opts, cwd });
    running.push(r);
    return r.result;
  };
}
