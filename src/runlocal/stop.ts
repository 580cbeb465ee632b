// Why a run must stop early: the caller's abort signal (Ctrl-C, SIGTERM) or the --timeout deadline, whichever
// comes first, as one promise the running steps race against.
import { GamelayerError } from '../errors.js';

export type StopReason = { kind: 'timeout'; ms: number } | { kind: 'signal'; name: string };

export class RunStop {
  reason?: StopReason;
  /** Resolves (never rejects) once a stop was asked for. */
  readonly stopped: Promise<StopReason>;
  private timer?: NodeJS.Timeout;
  private readonly unlisten: () => void;

  constructor(signal?: AbortSignal, timeoutMs?: number) {
    let fire!: (r: StopReason) => void;
    this.stopped = new Promise<StopReason>((resolve) => {
      fire = (r) => {
        if (this.reason) return;
        this.reason = r;
        resolve(r);
      };
    });
    const onAbort = () => fire({ kind: 'signal', name: typeof signal?.reason === 'string' ? signal.reason : 'abort' });
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.unlisten = () => signal?.removeEventListener('abort', onAbort);
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => fire({ kind: 'timeout', ms: timeoutMs }), timeoutMs);
      this.timer.unref();
    }
  }

  /** Throws the stop as an error when one was asked for; `during` says what was running. */
  check(during: string): void {
    if (this.reason) throw stopError(this.reason, during);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.unlisten();
  }
}

export function stopError(r: StopReason, during: string): GamelayerError {
  if (r.kind === 'timeout') {
    return new GamelayerError('run.timeout', `--timeout ${formatMs(r.ms)} reached ${during}; stopped the run`, 'raise --timeout, or leave it out to wait for the engine');
  }
  return new GamelayerError('run.interrupted', `interrupted (${r.name}) ${during}; stopped the run`);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
