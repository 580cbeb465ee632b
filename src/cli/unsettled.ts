// A command that awaits something which can no longer happen (a stream that closed without 'finish' or 'error')
// lets the event loop run dry, and Node then exits with status 0 having printed nothing: a failed build that looks
// like a success to CI. This turns that into an error.

/**
 * Calls `onDry` if the event loop runs dry before the returned release function is called (the command's promise
 * can then never settle); `onDry` reports and sets `process.exitCode`.
 */
export function guardUnsettled(onDry: () => void): () => void {
  process.once('beforeExit', onDry);
  return () => {
    process.off('beforeExit', onDry);
  };
}

export const UNSETTLED_MESSAGE = 'gamelayer stopped before the command finished: it was waiting for an operation that can no longer complete';
