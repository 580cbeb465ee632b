// Retries made visible: the registry client announces each retry (what, attempt, why, how long it waits) here, and
// the CLI shows it through its reporter. A wrong port is then six lines saying ECONNREFUSED, not silent seconds.
export interface RetryNotice {
  /** What was being done, e.g. "upload blob sha256:… to studio/game". */
  what: string;
  /** The attempt that failed (1-based) and how many there will be in all. */
  attempt: number;
  attempts: number;
  /** Why: an errno code (ECONNREFUSED) or an HTTP status (HTTP 503). */
  reason: string;
  delayMs: number;
}

type Listener = (n: RetryNotice) => void;
const listeners = new Set<Listener>();

/** Listens for retries until the returned function is called. */
export function onRetry(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function noticeRetry(n: RetryNotice): void {
  for (const l of listeners) l(n);
}

/** One line for people: `retry 2/6 in 0.5s: <what>: <reason>`. */
export function formatRetry(n: RetryNotice): string {
  return `retry ${n.attempt + 1}/${n.attempts} in ${(n.delayMs / 1000).toFixed(1)}s: ${n.what}: ${n.reason}`;
}
