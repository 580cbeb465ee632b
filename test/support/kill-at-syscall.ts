// kill -9 of the real CLI at an exact system call: strace traces only the calls that touch one path and delivers
// SIGKILL on entering the first of them, so the call itself never runs. Local steps that take microseconds (a
// record or blob deleted by gc, index.json replaced) are hit every time, however loaded the machine.
import { runCli, type CliOptions, type CliResult } from './cli-process.js';

export interface SyscallPoint {
  /** The path the system call names (absolute). */
  path: string;
  /** Which calls: `unlink` (a file deleted), `link` (a hard link made: a lock file put in place). */
  call: 'unlink' | 'link';
}

const CALLS = { unlink: 'unlink,unlinkat', link: 'link,linkat' } as const;

/** Runs the CLI under strace, killed (SIGKILL) as it enters the first `point.call` on `point.path`. */
export async function runCliKilledAt(args: string[], point: SyscallPoint, opts: CliOptions = {}): Promise<{ killed: boolean; result: CliResult }> {
  const calls = CALLS[point.call];
  const prefix = ['strace', '-f', '-qq', '-o', '/dev/null', '-P', point.path, `-e`, `trace=${calls}`, '-e', `inject=${calls}:signal=KILL`];
  const result = await runCli(args, { ...opts, prefix });
  // strace ends the way the traced process ended: killed by the same signal.
  return { killed: result.signal === 'SIGKILL' || result.code === 137, result };
}
