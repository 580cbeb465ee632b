// kill -9 of the real CLI at an exact rename: the n-th file it places onto a matching path (a blob into the store, a
// record, a cache file). The count is kept in the CLI's own process (kill-at-rename.cjs, preloaded), so the kill
// lands there however fast the disk or loaded the machine: no poll of the disk to miss the moment, and strace
// (kill-at-syscall.ts) counts per thread, where Node's file calls run on several. The disk is then exact: the
// matching renames before the n-th are done, none after it is made (held, as kill-at-request.ts holds a request).
// A run that never makes that rename ends unkilled (`killed` false).
import path from 'node:path';
import { runCli, type CliOptions, type CliResult } from './cli-process.js';

export interface RenamePoint {
  /** Matched against the absolute path the file is renamed onto. */
  target: RegExp;
  /** Which matching rename: 1 (the first) unless given. */
  nth?: number;
  /** `entered`: the n-th file is left whole under its temp name only; `done`: it has its name. */
  at: 'entered' | 'done';
}

const PRELOAD = path.resolve('test/support/kill-at-rename.cjs');

export async function runCliKilledAtRename(args: string[], point: RenamePoint, opts: CliOptions = {}): Promise<{ killed: boolean; result: CliResult }> {
  const spec = JSON.stringify({ target: point.target.source, flags: point.target.flags, nth: point.nth ?? 1, at: point.at });
  const result = await runCli(args, { ...opts, nodeArgs: ['--require', PRELOAD], env: { ...opts.env, GL_TEST_KILL_AT_RENAME: spec } });
  return { killed: result.signal === 'SIGKILL', result };
}
