// When whoever reads stdout goes away (`gamelayer k8s --help | head -1`), writes fail with EPIPE on an 'error'
// event nobody listened to, which Node turns into a crash with a stack. A CLI stops quietly there instead, with the
// status of a program killed by SIGPIPE (128 + 13), as `yes | head` reports under `set -o pipefail`.
import { EXIT } from '../errors.js';

export const CLOSED_STDOUT_STATUS = 141;

let installed = false;

/** Listens once, for the whole process, for stdout's reader going away; any other failed write to stdout ends
 * the run with an error (status 1), not Node's stack. */
export function exitQuietlyOnClosedStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(CLOSED_STDOUT_STATUS);
    // Any other failed write (`> /dev/full`, a full disk under `> file`) was rethrown here: Node's stack, status 1.
    // It is said as an error instead, and the run stops: what was printed is incomplete.
    const full = e.code === 'ENOSPC' || e.code === 'EDQUOT';
    process.stderr.write(
      full
        ? `error[disk.full]: standard output: no space left on the device (${e.code})\nhint: free space on the file system standard output goes to, or give the command's --out FILE where it has one\n`
        : `error[internal]: standard output: ${e.message}\nhint: this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack\n`,
    );
    process.exit(EXIT.failure);
  });
}
