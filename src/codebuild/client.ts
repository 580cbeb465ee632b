// The CodeBuild SDK client, and the two things every call needs: retries that back off (throttling above all:
// CodeBuild's API limits are low, and a pipeline of many projects polling will hit them) and errors a user can act on.
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { GamelayerError } from '../errors.js';
import { EXPIRED_HINT, EXPIRED_TOKEN } from '../util/aws-expired.js';
import { awsHttpsAgent } from '../util/proxy-agent.js';
import { backoffDelay, retrying as retryingCall } from '../util/retry.js';

export const ENDPOINT_ENV = 'GAMELAYER_CODEBUILD_ENDPOINT';

export interface CodebuildClientOptions {
  /** Another endpoint than AWS's (a test server, a VPC endpoint); default GAMELAYER_CODEBUILD_ENDPOINT. */
  endpoint?: string;
  /** Default: the SDK's (AWS_REGION, AWS_DEFAULT_REGION via the profile, ~/.aws/config). */
  region?: string;
  env?: NodeJS.ProcessEnv;
}

export function codebuildClient(opts: CodebuildClientOptions = {}): CodeBuildClient {
  const env = opts.env ?? process.env;
  const endpoint = opts.endpoint ?? (env[ENDPOINT_ENV] || undefined);
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      const from = opts.endpoint !== undefined ? '--endpoint' : ENDPOINT_ENV;
      throw new GamelayerError('codebuild.endpoint', `${from} ${JSON.stringify(endpoint)}: expected an http:// or https:// URL`);
    }
  }
  // gamelayer supports Node 20 (package.json engines); the SDK's notice about its future Node 22 floor would
  // otherwise open every CodeBuild log and CLI run. A user who set the variable keeps their choice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // One attempt per SDK call: retries are ours (retrying below), so they are counted, reported and bounded by
  // the caller's deadline instead of hidden inside the SDK.
  return new CodeBuildClient({ maxAttempts: 1, requestHandler: { httpsAgent: awsHttpsAgent() }, ...(endpoint ? { endpoint } : {}), ...(opts.region ? { region: opts.region } : {}) });
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'RequestThrottled']);

export function isThrottling(e: unknown): boolean {
  const err = e as AwsErrorShape | undefined;
  return !!err && (THROTTLING.has(err.name ?? '') || err.$metadata?.httpStatusCode === 429 || err.$retryable?.throttling === true);
}

/** A 5xx answer or a dropped connection: worth another try when the call is safe to repeat. */
export function isTransient(e: unknown): boolean {
  const err = e as AwsErrorShape | undefined;
  if (!err) return false;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'TimeoutError', 'RequestTimeout'].includes(err.code ?? err.name ?? '');
}

export function isAbort(e: unknown): boolean {
  return (e as AwsErrorShape | undefined)?.name === 'AbortError';
}

export interface RetryOptions {
  /** What is being done, for messages: "StartBuild of project game". */
  what: string;
  /** First wait; doubles per attempt (with jitter) up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all, counting the first. */
  attempts: number;
  /** Also retry 5xx and dropped connections (only for calls that are safe to repeat). */
  transient: boolean;
  signal?: AbortSignal;
  onRetry?: (info: { reason: 'throttled' | 'transient'; attempt: number; waitMs: number; error: unknown }) => void;
}

/** The backoff every retry uses (util/retry.ts); re-exported for the poll loop. */
export { backoffDelay };

/** An SDK call, retried when throttled (and, with `transient`, on 5xx and dropped connections). */
export function retrying<T>(call: () => Promise<T>, opts: RetryOptions): Promise<T> {
  return retryingCall(call, {
    ...opts,
    retryable: (e) => (isThrottling(e) ? 'throttled' : opts.transient && isTransient(e) ? 'transient' : undefined),
  });
}

/** An SDK error as a GamelayerError naming the call, the project or build, and what to check. */
export function codebuildError(e: unknown, what: string, endpoint?: string): unknown {
  if (e instanceof GamelayerError || isAbort(e)) return e;
  const err = (e ?? {}) as AwsErrorShape;
  const name = err.name ?? 'Error';
  const message = err.message ?? String(e);
  const where = endpoint ? ` (endpoint ${endpoint})` : '';
  if (name === 'ResourceNotFoundException') {
    return new GamelayerError('codebuild.not-found', `${what}${where}: ${message}`, 'check the project name and the region (--region or AWS_REGION)', { cause: e });
  }
  if (name === EXPIRED_TOKEN) {
    return new GamelayerError('codebuild.credentials', `${what}${where}: the AWS credentials have expired: ${message}`, EXPIRED_HINT, { cause: e });
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'InvalidSignatureException') {
    return new GamelayerError('codebuild.denied', `${what}${where}: ${name}: ${message}`, 'check the AWS credentials and that they allow codebuild:StartBuild, BatchGetBuilds and StopBuild', { cause: e });
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new GamelayerError('codebuild.credentials', `${what}: no AWS credentials found`, 'set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is attached', { cause: e });
  }
  if (/Region is missing/i.test(message)) {
    return new GamelayerError('codebuild.region', `${what}: no AWS region`, 'pass --region or set AWS_REGION', { cause: e });
  }
  if (isThrottling(e)) {
    return new GamelayerError('codebuild.throttled', `${what}${where}: still throttled after retries: ${message}`, 'try again later, or poll less often (--poll-interval)', { cause: e });
  }
  const code = err.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT'].includes(code)) {
    return new GamelayerError('codebuild.unreachable', `${what}: cannot reach CodeBuild${where}: ${code}`, 'check the network, --endpoint / GAMELAYER_CODEBUILD_ENDPOINT and the region', { cause: e });
  }
  return new GamelayerError('codebuild.api', `${what}${where}: ${name}: ${message}`, undefined, { cause: e });
}
