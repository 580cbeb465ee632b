// When whoever reads stdout goes away (`gamelayer k8s --help | head -1`), writes fail with EPIPE on an 'error'
// event nobody listened to, which Node turns into a crash with a stack. A CLI stops quietly there instead, with the
// status of a program killed by SIGPIPE (128 + 13), as `yes | head` reports under `set -o pipefail`.
import { closeReporters } from '../report/reporter.js';
import { stdoutWriteError } from '../util/disk-full.js';
import { reportError } from './report-error.js';

export const CLOSED_STDOUT_STATUS = 141;

let installed = false;
let json = false;
/** A command with something to undo when stdout's reader goes away (run-local's containers): see onClosedStdout. */
let undo: (() => void) | undefined;
let undoing = false;

/**
 * While set, stdout's reader going away calls `handler` once instead of exiting at once: a run that created
 * containers removes them first (run-local | head -1 left its engine container behind). The handler must end the
 * process, with CLOSED_STDOUT_STATUS; further failed writes to stdout meanwhile are ignored. undefined: the default.
 */
export function onClosedStdout(handler: (() => void) | undefined): void {
  undo = handler;
}

/** Listens once, for the whole process, for stdout's reader going away; any other failed write to stdout ends
 * the run with an error (status 1), not Node's stack. `asJson`: the command was given --json. */
export function exitQuietlyOnClosedStdout(asJson = false): void {
  json = asJson;
  if (installed) return;
  installed = true;
  let reported = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (undoing) return;
    if (e.code === 'EPIPE' && undo) {
      undoing = true;
      undo();
      return;
    }
    if (e.code === 'EPIPE') process.exit(CLOSED_STDOUT_STATUS);
    // A second failure (the --json form written to the same broken stdout) adds nothing to the first.
    if (reported) return;
    reported = true;
    // Any other failed write (`> /dev/full`, a full disk under `> file`) is said as an error by the CLI's one
    // printer, and the run stops: what was printed is incomplete.
    closeReporters();
    process.exit(reportError(stdoutWriteError(e), json));
  });
}
