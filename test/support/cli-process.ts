// The real CLI as a child process: run it to the end, or kill -9 it at a moment the test picks
// (after some milliseconds, or once something observable happened on disk or at the registry).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const CLI = path.resolve('bin/gamelayer.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Run as another user: `setpriv --reuid=U --regid=G --clear-groups` in front of node. */
  asUser?: { uid: number; gid: number };
  /** A command put in front of node (strace with a kill injected at one system call, say: kill-at-syscall.ts). */
  prefix?: string[];
  /** Another gamelayer.js to run than this checkout's (an upgraded copy: upgraded-cli.ts). */
  cli?: string;
  /** Flags for node itself, before the CLI's path (a module preloaded with --require: kill-at-rename.ts). */
  nodeArgs?: string[];
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
}

export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  const env = { ...process.env, GAMELAYER_DEBUG: undefined, NO_COLOR: '1', ...opts.env };
  const argv = [...(opts.nodeArgs ?? []), opts.cli ?? CLI, ...args];
  const child = opts.asUser
    ? spawn('setpriv', [`--reuid=${opts.asUser.uid}`, `--regid=${opts.asUser.gid}`, '--clear-groups', process.execPath, ...argv], { cwd: opts.cwd, env })
    : opts.prefix
      ? spawn(opts.prefix[0]!, [...opts.prefix.slice(1), process.execPath, ...argv], { cwd: opts.cwd, env })
      : spawn(process.execPath, argv, { cwd: opts.cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.stdin ?? '');
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).result;
}

export type KillOutcome = { killed: true; afterMs: number } | { killed: false; result: CliResult };

/**
 * Polls `when` every few milliseconds while the CLI runs and sends SIGKILL as soon as it returns true
 * (after `extraMs` more, when given). If the CLI ends first, says so: the caller decides whether that counts.
 */
export async function killWhen(
  run: RunningCli,
  when: (elapsedMs: number) => boolean | Promise<boolean>,
  opts: { extraMs?: number; pollMs?: number } = {},
): Promise<KillOutcome> {
  const started = Date.now();
  let ended: CliResult | undefined;
  void run.result.then((r) => (ended = r));
  for (;;) {
    if (ended) return { killed: false, result: ended };
    if (await when(Date.now() - started)) break;
    await sleep(opts.pollMs ?? 3);
  }
  if (opts.extraMs) await sleep(opts.extraMs);
  if (ended) return { killed: false, result: ended };
  const afterMs = Date.now() - started;
  run.child.kill('SIGKILL');
  const r = await run.result;
  // It may have exited on its own between the check and the kill.
  return r.signal === 'SIGKILL' ? { killed: true, afterMs } : { killed: false, result: r };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs the CLI to the end in `cwd` and gives its stdout; throws with its stderr when it does not exit 0. */
export async function cliOk(cwd: string, args: string[], env?: CliOptions['env']): Promise<string> {
  const r = await runCli(args, { cwd, env });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `ls REPO --json`'s build records: tag → `record of <build>` and ` (line <line>)` for a line tag. */
export async function registryRecords(cwd: string, repo: string, env?: CliOptions['env']): Promise<Record<string, string>> {
  const { tags } = JSON.parse(await cliOk(cwd, ['ls', repo, '--json'], env)) as { tags: { tag: string; kind: string; recordOf?: string; line?: string }[] };
  return Object.fromEntries(tags.filter((t) => t.kind === 'record').map((t) => [t.tag, `record of ${t.recordOf}${t.line !== undefined ? ` (line ${t.line})` : ''}`]));
}
