// When and how long to wait before trying a registry request again.
import { backoffDelay as sharedBackoff, sleep } from '../util/retry.js';
import { TransportError } from './transport.js';

export interface RetryPolicy {
  /** Total attempts, first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound for a server's Retry-After, so a hostile value cannot park a push for hours. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 };

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_ERRNO = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status) || (status >= 500 && status !== 501 && status !== 505);
}

export function isRetryableError(e: unknown): boolean {
  return e instanceof TransportError && RETRY_ERRNO.has(e.code);
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The shared backoff (util/retry.ts) under a registry policy; a server's Retry-After wins when it is given. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return sharedBackoff(attempt, policy.baseDelayMs, policy.maxDelayMs);
}

export { sleep };
