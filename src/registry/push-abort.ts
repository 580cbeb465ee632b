// A push a caller cancels (PushImageOptions.signal): checked before each step that writes to the registry, passed to
// every upload, and turned into one coded error whatever the cut request threw.
import { GamelayerError } from '../errors.js';

export function pushAborted(what: string, cause?: unknown): GamelayerError {
  return new GamelayerError('push.aborted', `${what}: push stopped: its AbortSignal fired`, 'push again: blobs already sent are not sent again, and no tag was moved after the signal', { cause });
}

/** Throws push.aborted before a step that writes, once the signal fired. */
export function stopIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw pushAborted(what, signal.reason);
}

/** `run`, whose failure after the signal fired (a cut upload, a cancelled retry) is push.aborted. */
export async function abortablePush<T>(signal: AbortSignal | undefined, what: string, run: () => Promise<T>): Promise<T> {
  stopIfAborted(signal, what);
  try {
    return await run();
  } catch (e) {
    if (signal?.aborted && !(e instanceof GamelayerError && e.code === 'push.aborted')) throw pushAborted(what, e);
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
