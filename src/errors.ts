import type { ErrorCode } from './error-codes.js';

export { ERROR_CODES, EXIT, exitStatusOf, type ErrorCode } from './error-codes.js';

/**
 * An error the user can act on. `message` says what is wrong and where (file, line, field, path);
 * `hint` says what to do. The CLI prints both and exits non-zero without a stack trace.
 */
export class GamelayerError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GamelayerError';
    this.code = code;
    this.hint = hint;
  }
}

export function isGamelayerError(e: unknown): e is GamelayerError {
  return e instanceof GamelayerError;
}

export { errnoCode } from './errno.js';
