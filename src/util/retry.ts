// The one backoff of gamelayer, and the one loop that retries a call. Registry requests (registry/retry.ts) and
// AWS calls (codebuild/client.ts) both wait by backoffDelay; a call that is simply repeated goes through retrying.
// The registry's request and upload loops keep their own loops (a token refresh is not a failed attempt; an upload
// resumes from an offset rather than repeating), but wait by the same formula.
import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * Exponential backoff with jitter: the wait before retry `attempt` (1 = the first retry) is between half and all
 * of min(maxMs, baseMs · 2^(attempt−1)), so many clients throttled together spread out.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Waits `ms`; with a signal, an abort ends the wait with an AbortError. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, signal ? { signal } : undefined);
}

export interface RetryingOptions<R extends string> {
  /** Attempts in all, counting the first. */
  attempts: number;
  /** First wait; doubles per attempt (with jitter) up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Why the error is worth another attempt (a short reason for onRetry), or undefined to fail with it now. */
  retryable: (e: unknown) => R | undefined;
  /** A wait the other side asked for (Retry-After), used instead of the backoff; capped by maxDelayMs. */
  requestedDelayMs?: (e: unknown) => number | undefined;
  signal?: AbortSignal;
  onRetry?: (info: { reason: R; attempt: number; waitMs: number; error: unknown }) => void;
}

/** Calls `call` until it succeeds, it fails with an error that is not retryable, or the attempts are spent. */
export async function retrying<T, R extends string>(call: () => Promise<T>, opts: RetryingOptions<R>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const reason = opts.retryable(e);
      if (reason === undefined || attempt >= opts.attempts || opts.signal?.aborted) throw e;
      const requested = opts.requestedDelayMs?.(e);
      const waitMs = requested !== undefined ? Math.min(requested, opts.maxDelayMs) : backoffDelay(attempt, opts.baseDelayMs, opts.maxDelayMs);
      opts.onRetry?.({ reason, attempt, waitMs, error: e });
      await sleep(waitMs, opts.signal);
    }
  }
}
