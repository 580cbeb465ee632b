// Two CLIs interleaved at an exact point (rename-points.cjs, preloaded): one held at a rename or removal, the other
// run until it did what the test waits for, or waits for the records lock the held one has. No clock.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startCli, type CliOptions, type CliResult } from './cli-process.js';

export const PRELOAD = ['--require', path.resolve('test/support/rename-points.cjs')];

export interface WatchedCli {
  pid: number;
  result: Promise<CliResult>;
  ended: () => boolean;
}

/** The CLI with the preload (its holds and marks given in `opts.env`), and whether it has ended. */
export function startWatched(args: string[], opts: CliOptions): WatchedCli {
  const cli = startCli(args, { ...opts, nodeArgs: PRELOAD });
  let ended = false;
  void cli.result.then(() => (ended = true));
  return { pid: cli.child.pid!, result: cli.result, ended: () => ended };
}

/** Waits until `dir` holds a file whose name starts with one of `prefixes` (the CLIs' own progress), or `done()`. */
export async function until(dir: string, prefixes: string[], done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await readdir(dir)).some((n) => prefixes.some((p) => n.startsWith(p))) && !(await done())) await new Promise((r) => setTimeout(r, 10));
}

/** Whether `cli` tried to take the lock file `lock` (a `link-<pid>` mark in `points`) while process `holder` holds it. */
export async function waitsOnLock(points: string, cli: WatchedCli, lock: string, holder: number): Promise<boolean> {
  if (!(await readdir(points)).includes(`link-${cli.pid}`)) return false;
  const text = await readFile(lock, 'utf8').catch(() => '');
  return text.split(' ')[0] === String(holder);
}
