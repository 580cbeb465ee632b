// When whoever reads stdout goes away (`gamelayer k8s --help | head -1`), writes fail with EPIPE on an 'error'
// event nobody listened to, which Node turns into a crash with a stack. A CLI stops quietly there instead, with the
// status of a program killed by SIGPIPE (128 + 13), as `yes | head` reports under `set -o pipefail`.
export const CLOSED_STDOUT_STATUS = 141;

let installed = false;

/** Listens once, for the whole process, for stdout's reader going away; other stdout errors stay fatal. */
export function exitQuietlyOnClosedStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(CLOSED_STDOUT_STATUS);
  });
}
