// What a run of a command the fast path may answer prints, kept as it goes (launch.ts installs it before the CLI
// loads): a no-op's stamp (record.ts) holds it to print again. Shared with the CLI's bundle through a global: the
// launcher and the CLI are separate bundles, each with its own copy of a module.
import type { StampPassOf } from '../../pipeline/steps/inputs.js';
import { candidateConfig, OFF_VAR } from './key.js';

export interface PendingStamp {
  argv: string[];
  /** The environment as the process started: the CLI sets variables of its own (the AWS SDK's) as it runs. */
  env: NodeJS.ProcessEnv;
  bundleDir: string;
  /** When the run started (wall clock, ms; the stamp pass's own start): a config written since may not be what it read. */
  startedAtMs: number;
  /** GAMELAYER_NO_FAST_NOOP: the run removes this command's stamp (it may change what it vouched for), writes none. */
  off: boolean;
  /** This run is a build's stamp pass (stamp-pass.ts): what it prints is kept, not shown. */
  pass: boolean;
  /**
   * Set by a build that stamped nothing because it built or pushed: a stamp pass runs once it is done, not before
   * `notBeforeMs`, and must find the build it stamps: `of` (pipeline/stamp-pass-check.ts).
   */
  wantsPass?: { notBeforeMs: number; of: StampPassOf };
  /** During a stamp pass: the build it must find. */
  passOf?: StampPassOf;
  stdout: string[];
  stderr: string[];
  /** Characters kept in stdout and stderr so far; above MAX_KEPT_CHARS nothing more is kept (`overflowed`): no stamp. */
  keptChars: number;
  overflowed: boolean;
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
  const pending: PendingStamp = { argv: [...argv], env: { ...env }, bundleDir, startedAtMs: Date.now(), off: Boolean(env[OFF_VAR]), pass: false, stdout: [], stderr: [], keptChars: 0, overflowed: false };
  (globalThis as { [KEY]?: PendingStamp })[KEY] = pending;
  if (pending.off) return;
  for (const [stream, kept] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']] as const) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (!pending.overflowed) keep(pending, kept, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      if (!pending.pass) return write(chunk, ...rest);
      // The stamp pass is not shown: its write is done at once (a callback given is called, as the stream would).
      const done = rest.find((r): r is () => void => typeof r === 'function');
      if (done) process.nextTick(done);
      return true;
    }) as typeof stream.write;
  }
}

/** A no-op prints a few KiB: a run printing more is no no-op, and what it printed is not held to its end. */
const MAX_KEPT_CHARS = 1 << 20;

function keep(pending: PendingStamp, stream: 'stdout' | 'stderr', text: string): void {
  pending.keptChars += text.length;
  if (pending.keptChars <= MAX_KEPT_CHARS) pending[stream].push(text);
  else Object.assign(pending, { overflowed: true, stdout: [], stderr: [] });
}

/**
 * Makes the rest of the process a stamp pass (stamp-pass.ts): what it prints from now on is kept for its stamp, not
 * shown, and the run starts now.
 */
export function beginPass(pending: PendingStamp): void {
  Object.assign(pending, { pass: true, passOf: pending.wantsPass?.of, startedAtMs: Date.now(), stdout: [], stderr: [], keptChars: 0, overflowed: false, finish: undefined, wantsPass: undefined });
}

/** After the CLI returned `code`: writes the stamp a no-op asked for. Best effort: a stamp not written is no harm. */
export async function finishStamp(code: number): Promise<void> {
  const pending = pendingStamp();
  if (code !== 0 || !pending?.finish) return;
  await pending.finish(pending.stdout.join(''), pending.stderr.join('')).catch(() => {});
}
