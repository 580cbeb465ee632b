// The CLI for tests that may leave it blocked (on a FIFO, say) when the code under test is wrong: every run still
// going after a test is killed, so a failing case fails alone instead of leaving processes behind.
import { afterEach } from 'vitest';
import { startCli, type CliResult, type RunningCli } from './cli-process.js';

/** Registers the afterEach that kills what is left; returns `run(args, cwd)`, which resolves when the CLI ends. */
export function useReapedCli(): (args: string[], cwd: string) => Promise<CliResult> {
  const running: RunningCli[] = [];
  afterEach(() => {
    for (const r of running.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  });
  return (args, cwd) => {
    const r = startCli(args, { cwd });
    running.push(r);
    return r.result;
  };
}
