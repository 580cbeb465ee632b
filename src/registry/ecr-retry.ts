// The ECR client's retries: the SDK's standard strategy (throttling and server errors retried with backoff), except
// LimitExceededException. The SDK counts that error among throttling errors, but on ECR it says a service quota is
// reached (repositories in a region, images in a repository): waiting seconds does not lift it, and the retries only
// delayed the error (ecr.LimitExceededException, error-codes.ts) by 8-19 s.
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { ECRClientConfig } from '@aws-sdk/client-ecr';

type RetryStrategyV2 = Extract<NonNullable<ECRClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Parameters<StandardRetryStrategy['recordSuccess']>[0];
type RetryErrorInfo = Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>[1];

/** AWS error names that are quotas, not rates: never retried. */
export const NOT_RETRIED = new Set(['LimitExceededException']);

/** The standard strategy with `maxAttempts`, refusing to retry the errors of NOT_RETRIED. */
export function ecrRetryStrategy(maxAttempts: number): RetryStrategyV2 {
  const standard = new StandardRetryStrategy(maxAttempts);
  return {
    acquireInitialRetryToken: (scope: string) => standard.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo) {
      // Throwing is how a strategy says "no retry": the SDK then throws the call's own error.
      if (NOT_RETRIED.has((info.error as { name?: string } | undefined)?.name ?? '')) return Promise.reject(new Error('not retried: a service quota'));
      return standard.refreshRetryTokenForRetry(token, info);
    },
    recordSuccess: (token: RetryToken) => standard.recordSuccess(token),
  };
}
