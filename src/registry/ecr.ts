// Amazon ECR as a push target. The image still goes up through the OCI Distribution API (same client, same
// uploads); ECR's own API (through @aws-sdk/client-ecr, standard AWS credential chain) supplies what the
// Distribution API does badly there: the registry password (GetAuthorizationToken, Basic `AWS:<token>`), blob
// availability 100 digests a call (BatchCheckLayerAvailability) instead of one HEAD each, and repository
// existence and creation (DescribeRepositories, CreateRepository) — ECR does not create repositories on push.
import {
  BatchCheckLayerAvailabilityCommand,
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  type ECRClientConfig,
  type Repository,
} from '@aws-sdk/client-ecr';
import pLimit from 'p-limit';
import { awsErrorCode } from '../error-codes.js';
import { awsHttpsAgent } from '../util/proxy-agent.js';
import { GamelayerError } from '../errors.js';
import { RegistryClient } from './client.js';
import { EcrTokenAuth, type EcrToken } from './ecr-auth.js';
import { ecrRetryStrategy } from './ecr-retry.js';
import { ECR_ENDPOINT_ENV, parseEcrHost, type EcrHost } from './ecr-host.js';
import type { PushTarget } from './target.js';
import type { RetryPolicy } from './retry.js';
import { EXPIRED_HINT, EXPIRED_TOKEN } from '../util/aws-expired.js';
import { exemptCommand, MUTABLE_TAG_FILTERS } from './mutable-tags.js';

/** BatchCheckLayerAvailability takes at most 100 digests a call. */
export const ECR_BATCH_SIZE = 100;
/** Parallel blob uploads on ECR unless told otherwise: its per-account upload API rates are shared by every push. */
export const ECR_DEFAULT_CONCURRENCY = 3;
/** ECR's Distribution API answers at most 1000 tags per page. */
export const ECR_TAGS_PAGE = 1000;
/** What a push does through ECR's registry API, as IAM actions (a 403 there names one; the hint names them all). */
export const ECR_PUSH_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'];
export { ECR_ENDPOINT_ENV };

export interface EcrOptions {
  /** Treat the registry as ECR even though its host name is not an ECR host (a proxy in front of ECR, tests). */
  force?: boolean;
  /** AWS region of the ECR API; default the region in the host name, else the SDK's (AWS_REGION, profile). */
  region?: string;
  /** ECR API endpoint URL; default $GAMELAYER_ECR_ENDPOINT, else the SDK's endpoint for the region. */
  endpoint?: string;
  /** Registry (AWS account) id; default the account in the host name, else the caller's default registry. */
  registryId?: string;
  /** Create the repository when it does not exist. */
  createRepository?: boolean;
  /** For a created repository: scan images on push. */
  scanOnPush?: boolean;
  /** For a created repository: tags cannot be moved once set. */
  immutableTags?: boolean;
  /** AWS credentials; default the SDK's standard chain (env, SSO, profile, web identity, container, instance). */
  credentials?: ECRClientConfig['credentials'];
  /** Attempts per ECR API call (throttling and server errors are retried by the SDK, a quota reached is not); default 6. */
  maxAttempts?: number;
  /** Milliseconds clock, for the token's half-life. */
  clock?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface EcrRepositoryInfo {
  name: string;
  uri?: string;
  created: boolean;
  tagMutability: string;
  /** Wildcard filters of tags exempt from the repository's mutability setting. */
  mutabilityExclusions: string[];
  scanOnPush: boolean;
}

/** The ECR API calls a push makes, with SDK errors turned into messages that name the registry and repository. */
export class EcrApi {
  readonly sdk: ECRClient;
  readonly region: string | undefined;
  readonly registryId: string | undefined;
  readonly endpoint: string | undefined;

  constructor(
    readonly host: string,
    opts: EcrOptions = {},
  ) {
    const parsed: EcrHost | undefined = parseEcrHost(host);
    const env = opts.env ?? process.env;
    this.region = opts.region ?? parsed?.region;
    this.registryId = opts.registryId ?? parsed?.accountId;
    this.endpoint = opts.endpoint ?? (env[ECR_ENDPOINT_ENV] || undefined);
    if (this.endpoint !== undefined) {
      try {
        new URL(this.endpoint);
      } catch {
        throw new GamelayerError('ecr.endpoint', `ECR API endpoint "${this.endpoint}" is not a URL`, `expected e.g. https://ecr.us-east-1.amazonaws.com (from --endpoint or ${ECR_ENDPOINT_ENV})`);
      }
    }
    this.sdk = new ECRClient({
      region: this.region,
      endpoint: this.endpoint,
      credentials: opts.credentials,
      maxAttempts: opts.maxAttempts ?? 6,
      // A quota reached (LimitExceededException) is not retried as throttling is (ecr-retry.ts).
      retryStrategy: ecrRetryStrategy(opts.maxAttempts ?? 6),
      // A FIPS / dual-stack registry host talks to the matching API endpoint; an explicit endpoint is used as given.
      useFipsEndpoint: (!this.endpoint && parsed?.fips) || undefined,
      useDualstackEndpoint: (!this.endpoint && parsed?.dualStack) || undefined,
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000, httpsAgent: awsHttpsAgent() },
    });
  }

  /** A registry password from GetAuthorizationToken: base64 of `AWS:<token>`, valid 12 hours. */
  async authorizationToken(): Promise<EcrToken> {
    const out = await this.call('GetAuthorizationToken', () =>
      this.sdk.send(new GetAuthorizationTokenCommand(this.registryId ? { registryIds: [this.registryId] } : {})),
    );
    const data = out.authorizationData?.[0];
    const decoded = data?.authorizationToken ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : '';
    const i = decoded.indexOf(':');
    if (!data || i <= 0) {
      throw new GamelayerError('ecr.token', `ECR GetAuthorizationToken for ${this.host} answered without a usable token`);
    }
    return {
      username: decoded.slice(0, i),
      password: decoded.slice(i + 1),
      // Without an expiry, assume ECR's documented 12 hours.
      expiresAt: data.expiresAt ?? new Date(Date.now() + 12 * 3600_000),
    };
  }

  async describeRepository(name: string): Promise<EcrRepositoryInfo | undefined> {
    try {
      const out = await this.call(`DescribeRepositories ${name}`, () =>
        this.sdk.send(new DescribeRepositoriesCommand({ repositoryNames: [name], ...(this.registryId ? { registryId: this.registryId } : {}) })),
      );
      const repo = out.repositories?.find((r) => r.repositoryName === name);
      return repo ? repositoryInfo(repo, false) : undefined;
    } catch (e) {
      if (e instanceof GamelayerError && e.code === 'ecr.RepositoryNotFoundException') return undefined;
      throw e;
    }
  }

  async createRepository(name: string, o: { scanOnPush?: boolean; immutableTags?: boolean }): Promise<EcrRepositoryInfo> {
    try {
      const out = await this.call(`CreateRepository ${name}`, () =>
        this.sdk.send(
          new CreateRepositoryCommand({
            repositoryName: name,
            ...(this.registryId ? { registryId: this.registryId } : {}),
            imageScanningConfiguration: { scanOnPush: o.scanOnPush ?? false },
            // Immutable except the line tags (each build of a line moves its tag: the next build plans on it) and the
            // signature and referrers tags (each build may add to them).
            ...(o.immutableTags
              ? { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: MUTABLE_TAG_FILTERS.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) }
              : { imageTagMutability: 'MUTABLE' }),
          }),
        ),
      );
      if (!out.repository) throw new GamelayerError('ecr.api', `ECR CreateRepository ${name} on ${this.host} answered without the repository`);
      return repositoryInfo(out.repository, true);
    } catch (e) {
      // Created meanwhile by a parallel push: use it as it is.
      if (e instanceof GamelayerError && e.code === 'ecr.RepositoryAlreadyExistsException') {
        const existing = await this.describeRepository(name);
        if (existing) return existing;
      }
      throw e;
    }
  }

  /** The digests `repo` lacks, asked 100 at a time (a few calls in parallel). */
  async missing(repo: string, digests: string[]): Promise<Set<string>> {
    const sizes = await this.sizes(repo, digests);
    return new Set(digests.filter((d) => !sizes.has(d)));
  }

  /** The digests `repo` holds, with the size ECR reports for each (BatchCheckLayerAvailability's layerSize). */
  async sizes(repo: string, digests: string[]): Promise<Map<string, number | undefined>> {
    const batches: string[][] = [];
    for (let i = 0; i < digests.length; i += ECR_BATCH_SIZE) batches.push(digests.slice(i, i + ECR_BATCH_SIZE));
    const limit = pLimit(2);
    const present = new Map<string, number | undefined>();
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          const out = await this.call(`BatchCheckLayerAvailability in ${repo}`, () =>
            this.sdk.send(
              new BatchCheckLayerAvailabilityCommand({
                repositoryName: repo,
                layerDigests: batch,
                ...(this.registryId ? { registryId: this.registryId } : {}),
              }),
            ),
          );
          const available = new Map((out.layers ?? []).filter((l) => l.layerAvailability === 'AVAILABLE').map((l) => [l.layerDigest, l.layerSize] as const));
          for (const f of out.failures ?? []) {
            if (f.failureCode === 'InvalidLayerDigest') {
              throw new GamelayerError('ecr.api', `ECR BatchCheckLayerAvailability in ${repo}: ${f.layerDigest} rejected (${f.failureReason ?? 'invalid digest'})`);
            }
          }
          for (const d of batch) if (available.has(d)) present.set(d, available.get(d));
        }),
      ),
    );
    return present;
  }

  /** Runs one SDK call; its errors become GamelayerErrors with code `ecr.<exception name>` and a hint. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.explain(what, e);
    }
  }

  private explain(what: string, e: unknown): GamelayerError {
    if (e instanceof GamelayerError) return e;
    const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const name = err.name ?? 'Error';
    const where = `ECR ${what} (${this.host}${this.region ? `, region ${this.region}` : ''})`;
    if (name === 'CredentialsProviderError' || /could not load credentials/i.test(err.message ?? '')) {
      return new GamelayerError('ecr.credentials', `${where}: no AWS credentials found`, 'set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an IAM role is available', { cause: e });
    }
    if (/region is missing/i.test(err.message ?? '')) {
      return new GamelayerError('ecr.region', `${where}: no AWS region: the host name does not name one`, 'pass --region (or set AWS_REGION)', { cause: e });
    }
    // On ECR LimitExceededException is a service quota reached (repositories, tags per image, …), not a rate: no
    // wait or lower concurrency helps. The SDK still retries it as throttling.
    if (name === 'LimitExceededException') {
      return new GamelayerError(
        awsErrorCode(name),
        `${where}: a service quota of the account is reached: ${err.message ?? name}`,
        'see the Amazon Elastic Container Registry quotas in Service Quotas (aws service-quotas list-service-quotas --service-code ecr): raise the one reached, or free some (gamelayer prune)',
        { cause: e },
      );
    }
    if (['ThrottlingException', 'TooManyRequestsException'].includes(name)) {
      return new GamelayerError(awsErrorCode(name), `${where}: still throttled after retries: ${err.message ?? name}`, 'ECR API rates are per account and region; lower --concurrency or try again shortly', { cause: e });
    }
    if (name === EXPIRED_TOKEN) {
      // Not a permission: short-lived credentials (an SSO or assumed-role session in the environment) ran out.
      return new GamelayerError(awsErrorCode(name), `${where}: the AWS credentials have expired: ${err.message ?? name}`, EXPIRED_HINT, { cause: e });
    }
    if (['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException'].includes(name)) {
      // `what` is the operation, then the repository it is about, if any (`BatchCheckLayerAvailability in REPO`).
      const [op, ...rest] = what.split(' ');
      const repo = rest.filter((w) => w !== 'in').join(' ');
      const action = `ecr:${op}`;
      const on = [repo, this.region ? `in ${this.region}` : ''].filter(Boolean).join(' ');
      return new GamelayerError(awsErrorCode(name), `${where}: denied: ${err.message ?? name}`, `check the AWS credentials, and that their IAM policy (and the repository policy) allows ${action}${on ? ` on ${on}` : ''}`, { cause: e });
    }
    if (err.code && /^E[A-Z]+$/.test(err.code)) {
      return new GamelayerError('ecr.network', `${where}: cannot reach the ECR API (${err.code})${this.endpoint ? ` at ${this.endpoint}` : ''}`, undefined, { cause: e });
    }
    const status = err.$metadata?.httpStatusCode;
    return new GamelayerError(awsErrorCode(name), `${where}: ${name}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? ''}`.trim(), undefined, { cause: e });
  }
}

function repositoryInfo(r: Repository, created: boolean): EcrRepositoryInfo {
  return {
    name: r.repositoryName ?? '',
    uri: r.repositoryUri,
    created,
    tagMutability: r.imageTagMutability ?? 'MUTABLE',
    mutabilityExclusions: (r.imageTagMutabilityExclusionFilters ?? []).map((f) => f.filter ?? '').filter(Boolean),
    scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
  };
}

/**
 * --immutable-tags / --scan-on-push set up a repository --create-repo creates; on one that exists without them they
 * did nothing, and the build engineer believed its tags immutable or its images scanned. Refused before anything is
 * sent, with the command that changes the repository (gamelayer never changes an existing repository's settings).
 */
function refuseIgnoredSettings(info: EcrRepositoryInfo, opts: Pick<EcrOptions, 'immutableTags' | 'scanOnPush'>, region: string | undefined): void {
  const where = `ECR repository "${info.name}"${region ? ` (region ${region})` : ''}`;
  if (opts.immutableTags && info.tagMutability !== 'IMMUTABLE' && info.tagMutability !== 'IMMUTABLE_WITH_EXCLUSION') {
    throw new GamelayerError(
      'ecr.repository-settings',
      `--immutable-tags: ${where} exists with mutable tags (${info.tagMutability}); the flag only sets up a repository --create-repo creates`,
      `make its tags immutable but the line, signature and referrers tags: ${exemptCommand(info.name)}; or drop --immutable-tags`,
    );
  }
  if (opts.scanOnPush && !info.scanOnPush) {
    throw new GamelayerError(
      'ecr.repository-settings',
      `--scan-on-push: ${where} exists without scan on push; the flag only sets up a repository --create-repo creates`,
      `turn it on: aws ecr put-image-scanning-configuration --repository-name ${info.name} --image-scanning-configuration scanOnPush=true; ` +
        "or drop --scan-on-push (a registry-level scanning configuration scans whatever the repository's setting)",
    );
  }
}

/** Whether ECR refuses to move `tag` in a repository with this mutability setting. */
export function isTagImmutable(info: Pick<EcrRepositoryInfo, 'tagMutability' | 'mutabilityExclusions'>, tag: string): boolean {
  const excluded = info.mutabilityExclusions.some((f) => wildcard(f).test(tag));
  if (info.tagMutability === 'IMMUTABLE') return true;
  if (info.tagMutability === 'IMMUTABLE_WITH_EXCLUSION') return !excluded;
  if (info.tagMutability === 'MUTABLE_WITH_EXCLUSION') return excluded;
  return false;
}

function wildcard(filter: string): RegExp {
  return new RegExp(`^${filter.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export interface EcrTargetOptions extends EcrOptions {
  /** Registry host as in the image reference (or an http(s):// URL for a test registry). */
  host: string;
  repository: string;
  insecure?: boolean;
  retry?: Partial<RetryPolicy>;
  idleTimeoutMs?: number;
}

export interface EcrTarget extends PushTarget {
  api: EcrApi;
  auth: EcrTokenAuth;
  repository: EcrRepositoryInfo;
}

/**
 * Prepares a push to ECR: checks the repository exists (or creates it when asked), then gives pushImage a
 * registry client authenticated with GetAuthorizationToken tokens and BatchCheckLayerAvailability for blobs.
 */
export async function ecrTarget(opts: EcrTargetOptions): Promise<EcrTarget> {
  const api = new EcrApi(opts.host, opts);
  let repository = await api.describeRepository(opts.repository);
  if (!repository) {
    if (!opts.createRepository) {
      throw new GamelayerError(
        'ecr.no-repository',
        `ECR repository "${opts.repository}" does not exist in ${opts.host}${api.region ? ` (region ${api.region})` : ''}`,
        'create it (a push with --create-repo, or createRepository: true), or check the repository name and the AWS account/region',
      );
    }
    repository = await api.createRepository(opts.repository, opts);
  } else {
    refuseIgnoredSettings(repository, opts, api.region);
  }
  const auth = new EcrTokenAuth(() => api.authorizationToken(), opts.clock);
  const deniedHint =
    `the AWS credentials need, on ${opts.repository}${api.region ? ` in ${api.region}` : ''}, ${ECR_PUSH_ACTIONS.join(', ')}: ` +
    `allowed by their IAM policy and not refused by the repository's policy (aws ecr get-repository-policy --repository-name ${opts.repository})`;
  const client = new RegistryClient({ host: opts.host, insecure: opts.insecure, auth, retry: opts.retry, idleTimeoutMs: opts.idleTimeoutMs, deniedHint });
  const info = repository;
  // The region the API calls went to: --region or the host's, else the SDK's own (AWS_REGION, the profile). The
  // local record notes it, so k8s/ecs --region find this push whichever way the region was given.
  const region = api.region ?? (await api.sdk.config.region().catch(() => undefined));
  return {
    api,
    auth,
    repository,
    client,
    ecr: true,
    ...(region ? { region } : {}),
    concurrency: ECR_DEFAULT_CONCURRENCY,
    availability: { missing: (repo, digests) => api.missing(repo, digests), sizes: (repo, digests) => api.sizes(repo, digests) },
    immutableTag: (tag) => isTagImmutable(info, tag),
    // Mount only blobs ECR says the source repository holds; a 202 to such a mount means mounting is off.
    async mountSources(missing, from) {
      const sources = new Map<string, string>();
      for (const source of from) {
        const left = missing.filter((d) => !sources.has(d));
        if (!left.length || source === opts.repository) continue;
        const absent = await api.missing(source, left).catch(() => new Set(left));
        for (const d of left) if (!absent.has(d)) sources.set(d, source);
      }
      return sources;
    },
  };
}
