// The poll loop of every CodeBuild watch (a build, a build batch): the interval grows ×1.5 while nothing changes
// and snaps back when something does; throttled polls back off further; a few transient failures in a row are
// retried; a deadline bounds it all; an abort ends it with an AbortError (the build itself keeps running).
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, codebuildError, isAbort, isThrottling, isTransient } from './client.js';

const TRANSIENT_LIMIT = 5;

export type PollRetryEvent = { kind: 'throttled'; attempt: number; waitMs: number } | { kind: 'transient'; attempt: number; waitMs: number; message: string };

export interface PollTiming {
  /** Stop watching after this long: `onTimeout` gives the error. */
  timeoutMs?: number;
  /** First poll interval; grows ×1.5 while nothing changes, up to maxPollMs (default 10 × pollMs, at most 30 s). */
  pollMs: number;
  maxPollMs?: number;
  signal?: AbortSignal;
}

export interface Poll<T, R> extends PollTiming {
  /** One poll: what CodeBuild says now. */
  fetch: (signal?: AbortSignal) => Promise<T>;
  /** Takes one answer: `done` ends the watch with `result`; `changed` resets the interval. */
  take: (answer: T) => { changed: boolean; done?: { result: R } };
  onRetry: (e: PollRetryEvent) => void;
  /** The API call, for the error of a poll that failed for good (e.g. `BatchGetBuilds of ID`). */
  what: string;
  endpoint?: string;
  /** The error once timeoutMs has passed; `last` is the last answer, if any. */
  onTimeout: (last: T | undefined, elapsedMs: number) => Error;
}

/** Polls until `take` says done; returns its result. */
export async function pollUntilDone<T, R>(p: Poll<T, R>): Promise<R> {
  const started = Date.now();
  const deadline = p.timeoutMs !== undefined ? started + p.timeoutMs : Infinity;
  const maxPoll = p.maxPollMs ?? Math.min(30_000, Math.max(p.pollMs, p.pollMs * 10));
  let interval = p.pollMs;
  let throttledInARow = 0;
  let transientInARow = 0;
  let last: T | undefined;

  for (;;) {
    let answer: { value: T } | undefined;
    try {
      answer = { value: await p.fetch(p.signal) };
      throttledInARow = 0;
      transientInARow = 0;
    } catch (e) {
      if (isAbort(e) || p.signal?.aborted) throw abortError();
      if (isThrottling(e)) {
        throttledInARow++;
        const waitMs = backoffDelay(throttledInARow, Math.max(p.pollMs, 250), Math.max(maxPoll, 30_000));
        p.onRetry({ kind: 'throttled', attempt: throttledInARow, waitMs });
        interval = Math.max(interval, waitMs);
      } else if (isTransient(e) && ++transientInARow < TRANSIENT_LIMIT) {
        const waitMs = backoffDelay(transientInARow, p.pollMs, maxPoll);
        p.onRetry({ kind: 'transient', attempt: transientInARow, waitMs, message: (e as Error).message });
        interval = Math.max(interval, waitMs);
      } else {
        throw codebuildError(e, p.what, p.endpoint);
      }
    }
    if (answer) {
      last = answer.value;
      const { changed, done } = p.take(answer.value);
      if (done) return done.result;
      interval = changed ? p.pollMs : Math.min(maxPoll, Math.round(interval * 1.5));
    }
    const left = deadline - Date.now();
    if (left <= 0) throw p.onTimeout(last, Date.now() - started);
    try {
      await sleep(Math.min(interval, left), undefined, { signal: p.signal });
    } catch {
      throw abortError();
    }
  }
}

function abortError(): Error {
  const e = new Error('watch interrupted');
  e.name = 'AbortError';
  return e;
}
