// What a run of a command the fast path may answer prints, kept as it goes (launch.ts installs it before the CLI
// loads): a no-op's stamp (record.ts) holds it to print again. Shared with the CLI's bundle through a global: the
// launcher and the CLI are separate bundles, each with its own copy of a module.
import { candidateConfig, OFF_VAR, PASS_VAR } from './key.js';

export interface PendingStamp {
  argv: string[];
  /** The environment as the process started: the CLI sets variables of its own (the AWS SDK's) as it runs. */
  env: NodeJS.ProcessEnv;
  bundleDir: string;
  /** When the launcher started (wall clock, ms): a config written since may not be what the run read. */
  startedAtMs: number;
  /** GAMELAYER_NO_FAST_NOOP: the run removes this command's stamp (it may change what it vouched for), writes none. */
  off: boolean;
  /** GAMELAYER_STAMP_PASS: this run is a build's stamp pass (stamp-pass.ts). */
  pass: boolean;
  /** Set by a build that stamped nothing because it built or pushed: a stamp pass runs once it is done. */
  wantsPass?: boolean;
  stdout: string[];
  stderr: string[];
  /** Set by the build once it knows the run was a no-op: writes the stamp with what was printed. */
  finish?: (stdout: string, stderr: string) => Promise<void>;
}

const KEY = Symbol.for('gamelayer.fast-noop.pending');

/** The tap of this process, when the launcher installed one. */
export function pendingStamp(): PendingStamp | undefined {
  return (globalThis as { [KEY]?: PendingStamp })[KEY];
}

/** Keeps what stdout and stderr are given, when `argv` is a command the fast path may answer (and it is not off). */
export function installOutputTap(argv: readonly string[], bundleDir: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!candidateConfig(argv, process.cwd())) return;
  const pending: PendingStamp = { argv: [...argv], env: { ...env }, bundleDir, startedAtMs: Date.now(), off: Boolean(env[OFF_VAR]), pass: Boolean(env[PASS_VAR]), stdout: [], stderr: [] };
  (globalThis as { [KEY]?: PendingStamp })[KEY] = pending;
  if (pending.off) return;
  for (const [stream, into] of [[process.stdout, pending.stdout], [process.stderr, pending.stderr]] as const) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

/** After the CLI returned `code`: writes the stamp a no-op asked for. Best effort: a stamp not written is no harm. */
export async function finishStamp(code: number): Promise<void> {
  const pending = pendingStamp();
  if (code !== 0 || !pending?.finish) return;
  await pending.finish(pending.stdout.join(''), pending.stderr.join('')).catch(() => {});
}
