// Watching a CodeBuild build or build batch from the terminal: Ctrl-C ends the watch, never the build, unless
// --stop-on-interrupt says so or the user answers yes on a terminal. One implementation for single builds and
// batches, so the two cannot drift apart in what an interrupt does or prints.
import { createInterface } from 'node:readline/promises';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { GamelayerError } from '../../errors.js';
import type { Reporter } from '../../report/reporter.js';
import { printJson } from '../context.js';
import { withJsonResult } from '../report-error.js';

/** Exit status after Ctrl-C (128 + SIGINT), the shell's convention. */
export const INTERRUPTED = 130;

export interface FollowTarget<T> {
  /** "build" or "build batch", for messages. */
  noun: string;
  id: string;
  /** The CLI words that watch / stop it again, e.g. `watch --batch ID`. */
  watchAgain: string;
  stopAgain: string;
  stopOnInterrupt?: boolean;
  /** Watches until it ends; must end with an error once `signal` aborts. */
  watch: (signal: AbortSignal) => Promise<T>;
  /** Asks CodeBuild to stop it; resolves to its status as CodeBuild then states it. */
  stop: () => Promise<string | undefined>;
}

/**
 * The options of watchBuild / watchBuildBatch from a command's flags: each event printed on stdout as `format` words
 * it (none under --json: stdout is the one document), CodeBuild's throttling and transient errors as warnings.
 */
export function watchOptions<E extends { kind: string }>(
  client: CodeBuildClient,
  id: string,
  flags: { timeoutMs?: number; pollMs: number; region?: string; json?: boolean },
  signal: AbortSignal,
  reporter: Reporter,
  format: (e: E) => string,
) {
  const onEvent = (e: E) => (e.kind === 'throttled' || e.kind === 'transient' ? reporter.warn(format(e)) : flags.json ? undefined : void process.stdout.write(`${format(e)}\n`));
  return { client, id, timeoutMs: flags.timeoutMs, pollMs: flags.pollMs, signal, region: flags.region, onEvent };
}

/** The watch's result, or undefined after Ctrl-C (then the exit status is set to INTERRUPTED). */
export async function followUntilInterrupted<T>(target: FollowTarget<T>): Promise<T | undefined> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.on('SIGINT', onSigint);
  try {
    return await target.watch(interrupt.signal);
  } catch (e) {
    if (!interrupt.signal.aborted) throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await interrupted(target);
  process.exitCode = INTERRUPTED;
  return undefined;
}

/** What `codebuild start --json` and `watch --json` print of a build or a batch (docs/json.md). */
export interface FollowJson {
  id: string;
  arn?: string;
  number?: number;
  batch: boolean;
  /** Once watched to its end: CodeBuild's status (SUCCEEDED, FAILED, …) and how long it ran. */
  status?: string;
  seconds?: number;
  /** Ctrl-C ended the watch: the build's status is not known here. */
  interrupted?: boolean;
}

/**
 * The end of a watch under --json: the result printed, or for a build that did not succeed the failure with the
 * result in it (one document, report-error.ts); undefined `ended` is a watch Ctrl-C ended.
 */
export function endedJson(base: FollowJson, ended: { status?: string; seconds?: number; arn?: string } | undefined, failure?: GamelayerError): void {
  if (!ended) return printJson({ ...base, interrupted: true });
  const result: FollowJson = { ...base, ...(ended.arn ? { arn: ended.arn } : {}), status: ended.status ?? 'ended', ...(ended.seconds !== undefined ? { seconds: ended.seconds } : {}) };
  if (failure) throw withJsonResult(failure, result);
  printJson(result);
}

async function interrupted(target: FollowTarget<unknown>): Promise<void> {
  let stop = Boolean(target.stopOnInterrupt);
  if (!stop && process.stdin.isTTY && process.stderr.isTTY) stop = await askYes(`\nstop ${target.noun} ${target.id} in CodeBuild? [y/N] `);
  if (stop) {
    const status = await target.stop();
    process.stderr.write(`interrupted: stop requested for ${target.noun} ${target.id} (${status ?? 'status unknown'})\n`);
  } else {
    process.stderr.write(
      `interrupted: ${target.noun} ${target.id} keeps running in CodeBuild\n` +
        `watch it again with: gamelayer codebuild ${target.watchAgain}; stop it with: gamelayer codebuild ${target.stopAgain}\n`,
    );
  }
}

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const asked = new AbortController();
  // A second Ctrl-C at the prompt means "no, just let me go".
  rl.on('SIGINT', () => asked.abort());
  try {
    return /^y(es)?$/i.test((await rl.question(question, { signal: asked.signal })).trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
