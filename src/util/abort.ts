// A build or push a library caller cancels (`signal`): checked before each step that writes, passed to the work that
// can stop mid-way (uploads, a layer's tar), and turned into one coded error whatever the cut work threw.
import { GamelayerError } from '../errors.js';

type Stopped = 'build' | 'push';

const HINTS: Record<Stopped, string> = {
  build: 'build again: the layers already in the store are reused; no image or build record was written after the signal',
  push: 'push again: blobs already sent are not sent again, and no tag was moved after the signal',
};

export function abortedError(what: Stopped, where: string, cause?: unknown): GamelayerError {
  return new GamelayerError(`${what}.aborted`, `${where}: ${what} stopped: its AbortSignal fired`, HINTS[what], { cause });
}

/** Throws `<what>.aborted` before a step that writes, once the signal fired. */
export function stopIfAborted(signal: AbortSignal | undefined, what: Stopped, where: string): void {
  if (signal?.aborted) throw abortedError(what, where, signal.reason);
}

/** `run`, whose failure after the signal fired (a cut upload, a stopped layer, a cancelled retry) is `<what>.aborted`. */
export async function abortable<T>(signal: AbortSignal | undefined, what: Stopped, where: string, run: () => Promise<T>): Promise<T> {
  stopIfAborted(signal, what, where);
  try {
    return await run();
  } catch (e) {
    if (signal?.aborted && !(e instanceof GamelayerError && e.code === `${what}.aborted`)) throw abortedError(what, where, e);
    throw e;
  }
}

/** A signal that fires when either does (AbortSignal.any is Node ≥ 20.3; gamelayer runs on 20.0). */
export function eitherSignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  if (!b) return a;
  if (a.aborted || b.aborted) return a.aborted ? a : b;
  const both = new AbortController();
  const fire = (s: AbortSignal) => () => both.abort(s.reason);
  a.addEventListener('abort', fire(a), { once: true });
  b.addEventListener('abort', fire(b), { once: true });
  return both.signal;
}
