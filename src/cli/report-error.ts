// The CLI's one error printer: every error a command ends with (main.ts) and a failed write to stdout
// (closed-stdout.ts) is printed here, so the text, the hint, the --json form and the exit status cannot drift apart.
import { CommanderError } from 'commander';
import { EXIT, exitStatusOf, isGamelayerError, type ErrorCode, type GamelayerError } from '../errors.js';
import { redactReference } from '../registry/reference.js';
import { visibleControls } from '../report/printable.js';
import { crossDeviceError } from '../util/cross-device.js';
import { diskFullFallback } from '../util/disk-full.js';
import { writeDeniedError } from '../util/fs-access.js';
import { jsonPrettyChunks } from '../util/json-pretty-chunks.js';

/** The --json results that failed as a whole (verify: an image that does not verify), by the error that says so. */
const failedResults = new WeakMap<GamelayerError, object>();

/**
 * `e`, carrying the command's --json result: its JSON form is then that result with `error` in it, one document. A
 * command that printed its result and then threw left two documents on stdout, which no JSON reader takes.
 */
export function withJsonResult(e: GamelayerError, result: object): GamelayerError {
  failedResults.set(e, result);
  return e;
}

/**
 * Prints an error for people (`error[code]: message`, `hint: …` on stderr) and, under --json, for scripts
 * (`{"error": {"code", "message", "hint"}}` on stdout); returns the exit status (docs/errors.md "Exit status").
 */
export function reportError(thrown: unknown, json: boolean): number {
  const e = crossDeviceError(diskFullFallback(writeDeniedError(thrown)));
  if (e instanceof CommanderError) {
    // Commander already printed usage errors (through outputError in main.ts); help and version exit 0.
    if (e.exitCode === 0) return EXIT.ok;
    if (json) printErrorJson('cli.usage', e.message.replace(/^error: /, ''), 'see --help');
    return EXIT.usage;
  }
  if (isGamelayerError(e)) {
    // A last guard: whatever message echoes a reference the user typed, its user-info is never printed.
    const message = redactReference(e.message);
    const hint = e.hint === undefined ? undefined : redactReference(e.hint);
    // On the terminal an escape sequence from a registry's or an archive's text would act (a forged line, a
    // retitled window): shown escaped. The JSON form escapes it anyway.
    process.stderr.write(`error[${e.code}]: ${visibleControls(message)}\n`);
    if (hint) process.stderr.write(`hint: ${visibleControls(hint)}\n`);
    if (json) printErrorJson(e.code, message, hint, failedResults.get(e));
    return exitStatusOf(e.code);
  }
  const err = e as Error;
  const hint = 'this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack';
  process.stderr.write(`error[internal]: ${visibleControls(redactReference(err?.message ?? String(e)))}\n`);
  if (process.env.GAMELAYER_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write(`hint: ${hint}\n`);
  if (json) printErrorJson('internal', err?.message ?? String(e), hint);
  return EXIT.failure;
}

function printErrorJson(code: ErrorCode | 'internal', message: string, hint: string | undefined, result?: object): void {
  const error = { code, message, ...(hint ? { hint } : {}) };
  if (!result) return void process.stdout.write(`${JSON.stringify({ error })}\n`);
  for (const piece of jsonPrettyChunks({ ...result, error })) process.stdout.write(piece);
  process.stdout.write('\n');
}
