// Step push to several repositories (one per region, say) in one run. Every blob the targets lack is read from the
// store once and uploaded once per target that lacks it (registry/multi-push.ts); then each target that got all
// of them gets its manifests and record through the one-target push (which finds the blobs there and sends only
// manifests). A target that failed gets no manifest; the others are still pushed, and the error names the failed
// ones and says what the others got. Where ECR replication rules (DescribeRegistry) already copy the repository
// from one target's registry to another target's region, that target is not pushed: the push waits until
// DescribeImageReplicationStatus reports every image COMPLETE there (bounded), and only then records it as pushed
// there, so deploy specs for that region (k8s/ecs --region) can trust it.
import { GamelayerError } from '../../errors.js';
import type { ReplicationDestination } from '../../registry/ecr-replication.js';
import { parseEcrHost } from '../../registry/ecr-host.js';
import { replicationTimeoutMs } from '../../registry/replication-timeout.js';
import type { EcrOptions, EcrTarget } from '../../registry/ecr.js';
import { uploadBlobsToTargets, type BlobTargetResult } from '../../registry/multi-push.js';
import { pushTargetFor, type PushTarget } from '../../registry/push.js';
import { parseReference } from '../../registry/reference.js';
import { silentReporter } from '../../report/reporter.js';
import { markPushed, recordForRegistry } from '../../state/records.js';
import { baseMountSources, mediaStripe, pushBuild, refuseClashingBuildTag, type PushBuildOptions, type PushBuildResult } from './push.js';
import { outcomeText, type TargetOutcome } from './push-outcome.js';
import { withStoreRead } from '../../oci/store-holds.js';
import { abortable, stopIfAborted } from '../../util/abort.js';
import { stateUploadSessions } from '../../registry/upload-sessions.js';

/** The replication checks load the AWS SDK's ECR client: only when two ECR targets could replicate (start-up time). */
const ecrReplication = () => import('../../registry/ecr-replication.js');

export type { TargetOutcome };

/** One destination, with options of its own (else the shared ones). */
export interface PushDestination {
  /** `host[:port]/repo`. */
  repository: string;
  credentials?: PushBuildOptions['credentials'];
  insecure?: boolean;
  concurrency?: number;
  /** ECR options of this destination (its region, endpoint, registry id), over the shared ones. */
  ecr?: EcrOptions | false;
}

export interface PushBuildToManyOptions extends Omit<PushBuildOptions, 'repository'> {
  repositories: (string | PushDestination)[];
  /** `auto` (default): let ECR replication serve the regions its rules cover; `off`: push to each target. */
  replication?: 'auto' | 'off';
  /** Bound of the wait for replication; default $GAMELAYER_REPLICATION_TIMEOUT (read before anything is pushed), else 30 minutes. */
  replicationTimeoutMs?: number;
  replicationPollMs?: number;
  /** How long uploads of one blob wait for each other before reading it apart (see registry/shared-read.ts). */
  joinWaitMs?: number;
}

export interface PushBuildToManyResult {
  targets: TargetOutcome[];
  /** Passes over each store blob's file during the blob uploads (1 when every target shared one read). */
  reads: Record<string, number>;
  bytesSent: number;
}

interface Planned {
  index: number;
  dest: PushDestination;
  region?: string;
  registryId?: string;
  target?: PushTarget;
  /** ECR replication serves it from this planned target. */
  from?: Planned;
  outcome: TargetOutcome;
}

/**
 * Pushes holding the store as a reader: a gc waits instead of deleting the blobs being sent. `signal` stops every
 * target (uploads cut, no manifest, tag or record put after it, the replication wait left): `push.aborted`.
 */
export function pushBuildToMany(opts: PushBuildToManyOptions): Promise<PushBuildToManyResult> {
  const where = opts.repositories.map((r) => (typeof r === 'string' ? r : r.repository)).join(', ');
  return abortable(opts.signal, 'push', where, () => withStoreRead(opts.store, () => pushBuildToManyHeld(opts, where)));
}

async function pushBuildToManyHeld(opts: PushBuildToManyOptions, where: string): Promise<PushBuildToManyResult> {
  const { repositories, replication = 'auto', replicationPollMs, joinWaitMs, ...shared } = opts;
  // A bad value fails here, not at the wait after minutes of pushing.
  const timeoutMs = opts.replicationTimeoutMs ?? (replication === 'auto' && repositories.length > 1 ? replicationTimeoutMs() : undefined);
  const reporter = opts.reporter ?? silentReporter;
  if (!repositories.length) throw new GamelayerError('push.no-targets', 'push to several repositories: none given');
  refuseClashingBuildTag(opts.record);
  const planned: Planned[] = repositories.map((r, index) => {
    const dest = typeof r === 'string' ? { repository: r } : r;
    const ref = parseReference(dest.repository);
    if (ref.tag || ref.digest) {
      throw new GamelayerError('push.repository-only', `${dest.repository}: expected a repository without tag or digest`, 'each image of the build has its own tag');
    }
    // A host naming its region wins over a shared --region: one run reaches several regions.
    const host = parseEcrHost(ref.registry);
    const ecr = dest.ecr === false || (dest.ecr === undefined && shared.ecr === false) ? false : { ...(shared.ecr || {}), ...(host ? { region: host.region } : {}), ...(dest.ecr || {}) };
    const d: PushDestination = { ...dest, ecr };
    const region = ecr ? (ecr.region ?? host?.region) : undefined;
    const repository = `${ref.registry}/${ref.repository}`;
    return { index, dest: d, region, registryId: ecr ? (ecr.registryId ?? host?.accountId) : undefined, outcome: { repository, region, status: 'failed', uploaded: 0, mounted: 0, skipped: 0, bytesSent: 0 } };
  });
  const dup = planned.find((p, i) => planned.findIndex((q) => q.outcome.repository === p.outcome.repository) !== i);
  if (dup) throw new GamelayerError('push.duplicate-target', `${dup.outcome.repository} is given twice`, 'name each repository once');

  const fail = (p: Planned, e: unknown) => {
    p.outcome.status = 'failed';
    p.outcome.error ??= describe(e);
  };
  const optionsOf = (p: Planned) => ({ ...shared, ...stripUndefined({ credentials: p.dest.credentials, insecure: p.dest.insecure, concurrency: p.dest.concurrency }), ecr: p.dest.ecr });

  // Targets are opened in order: the first ECR target of an account is the replication source for the others.
  for (const p of planned) {
    const source = replication === 'auto' && p.region ? planned.find((q) => q.index < p.index && q.target && !q.from && q.region && q.region !== p.region && q.registryId === p.registryId && sameRepoName(q, p)) : undefined;
    if (source) {
      try {
        const api = (source.target as EcrTarget).api;
        const dest: ReplicationDestination = { region: p.region!, registryId: p.registryId ?? api.registryId ?? '' };
        if ((await (await ecrReplication()).replicatedDestinations(api, repoName(p), [dest])).length) {
          p.from = source;
          reporter.info(`${p.outcome.repository}: ECR replication from ${source.region} covers ${p.region}: pushing once and waiting for the copy`);
          continue;
        }
      } catch (e) {
        fail(p, e);
        continue;
      }
    }
    try {
      p.target = await pushTargetFor(parseReference(p.dest.repository), optionsOf(p));
      // An ECR target knows the region its API calls went to (AWS_REGION, the profile) when nothing named one.
      p.region ??= p.target.region;
      p.outcome.region ??= p.target.region;
    } catch (e) {
      fail(p, e);
    }
  }

  const direct = planned.filter((p) => p.target && !p.from);
  // Chunked uploads keep their sessions, so a run killed part-way is continued by the next.
  const uploadSessions = opts.uploadSessions ?? stateUploadSessions(opts.stateDir);
  const blobPhase = await uploadBlobsToTargets({
    layout: opts.store,
    images: opts.record.tags,
    targets: direct.map((p) => ({
      name: p.outcome.repository,
      repo: parseReference(p.dest.repository).repository,
      target: p.target!,
      concurrency: optionsOf(p).concurrency,
      mountFrom: baseMountSources(opts.record, parseReference(p.dest.repository), opts.mountFrom),
    })),
    reporter,
    chunkedAbove: opts.chunkedAbove,
    chunkSize: opts.chunkSize,
    uploadSessions,
    joinWaitMs,
    // A platform build of a batch graph (--media-wait): the shared media split with the other platforms' hosts, per target.
    stripe: mediaStripe(opts.record, opts.gamePlatforms, opts.mediaWaitMs),
    signal: opts.signal,
  });
  const sentEarlier = new Map<Planned, Map<string, 'uploaded' | 'mounted'>>();
  blobPhase.targets.forEach((r: BlobTargetResult, k) => {
    const p = direct[k]!;
    sentEarlier.set(p, new Map([...r.uploaded.map((d) => [d, 'uploaded'] as const), ...r.mounted.map((d) => [d, 'mounted'] as const)]));
    Object.assign(p.outcome, { uploaded: r.uploaded.length, mounted: r.mounted.length, skipped: r.skipped, bytesSent: r.bytesSent, uploadedBlobs: [...r.uploaded] });
    if (r.error !== undefined) fail(p, r.error);
  });

  stopIfAborted(opts.signal, 'push', where);
  // Manifests (and record) only where every blob went up. The one-target push sends what is still missing (blobs a
  // partial store lacks, fetched from where the build kept them) and then the manifests.
  const ready = direct.filter((p) => !p.outcome.error);
  const pushes = await Promise.allSettled(
    // The local record is noted below, one target after the other (side by side they would overwrite each other).
    ready.map((p) => pushBuild({ ...optionsOf(p), store: opts.store, record: opts.record, repository: p.dest.repository, stateDir: undefined, uploadSessions, reporter, target: p.target, sentEarlier: sentEarlier.get(p) })),
  );
  pushes.forEach((r, k) => {
    const p = ready[k]!;
    if (r.status === 'rejected') return fail(p, r.reason);
    p.outcome.status = 'pushed';
    p.outcome.push = r.value;
    p.outcome.bytesSent += r.value.bytesSent;
    p.outcome.uploaded += r.value.blobs.uploaded;
    p.outcome.uploadedBlobs = [...new Set([...(p.outcome.uploadedBlobs ?? []), ...r.value.images.flatMap((i) => i.uploaded)])];
    p.outcome.mounted += r.value.blobs.mounted;
    // "Already there" as a one-target push counts it (per image, what the registry held before this run): the blob
    // phase only looked at the blobs in the store, and a fresh host's store lacks the kept layers (they were 0).
    p.outcome.skipped = r.value.blobs.skipped - r.value.images.reduce((n, i) => n + (i.sentEarlier ?? 0), 0);
  });
  if (opts.stateDir) for (const p of ready) if (p.outcome.status === 'pushed') await markTarget(opts, p.outcome.push!, p.outcome.repository, p.region);

  // Replicated regions: wait for ECR's copy of every image and of the record, then note it as pushed there.
  stopIfAborted(opts.signal, 'push', where);
  for (const source of planned.filter((q) => planned.some((p) => p.from === q))) {
    const served = planned.filter((p) => p.from === source);
    if (source.outcome.status !== 'pushed') {
      for (const p of served) fail(p, new GamelayerError('push.replication-source', `${p.outcome.repository}: not pushed: it was to get its copy from ${source.outcome.repository} by ECR replication, and that push failed`));
      continue;
    }
    const push = source.outcome.push!;
    const images = [...push.images.map((i) => ({ name: i.tags[0] ?? i.digest, digest: i.digest })), { name: `${opts.record.tags[0]} build record`, digest: push.record.digest }];
    try {
      const api = (source.target as EcrTarget).api;
      const { waitForReplication } = await ecrReplication();
      await waitForReplication({
        api,
        repository: repoName(source),
        images,
        destinations: served.map((p) => ({ region: p.region!, registryId: p.registryId ?? api.registryId ?? '' })),
        timeoutMs,
        pollMs: replicationPollMs,
        reporter,
        signal: opts.signal,
      });
      for (const p of served) {
        p.outcome.status = 'replicated';
        p.outcome.replicatedFrom = source.outcome.repository;
        if (opts.stateDir) await markTarget(opts, push, p.outcome.repository, p.region);
      }
    } catch (e) {
      for (const p of served) fail(p, e);
    }
  }

  const targets = planned.map((p) => p.outcome);
  const result: PushBuildToManyResult = {
    targets,
    reads: Object.fromEntries(blobPhase.reads),
    bytesSent: targets.reduce((n, t) => n + t.bytesSent, 0),
  };
  const failed = targets.filter((t) => t.status === 'failed');
  if (failed.length) {
    const ok = targets.filter((t) => t.status !== 'failed');
    throw new GamelayerError(
      'push.targets-failed',
      `${failed.length} of ${targets.length} targets failed and got no manifest of ${opts.record.tags[0]}: ` +
        failed.map((t) => `${t.repository}: ${t.error?.message ?? 'failed'}`).join('; ') +
        `. ${ok.length ? ok.map((t) => `${t.repository}: ${outcomeText(t)}`).join('; ') : 'No target got the build'}.`,
      failed.find((t) => t.error?.hint)?.error?.hint ?? 'fix what the message says, then push again: what is there already is not sent again',
      { cause: result },
    );
  }
  return result;
}

/** The local record notes where the build is now, with the region when known (k8s/ecs --region pick that copy). */
async function markTarget(opts: PushBuildToManyOptions, push: PushBuildResult, repository: string, region: string | undefined): Promise<void> {
  const record = recordForRegistry(opts.record);
  await markPushed(opts.stateDir!, record, {
    repository,
    ...(region ? { region } : {}),
    images: record.tags.map((tag, i) => ({ name: i === 0 ? 'server' : tag.slice(record.tags[0]!.length + 1), digest: push.images[i]!.digest })),
    at: new Date().toISOString(),
  });
}

function repoName(p: Planned): string {
  return parseReference(p.dest.repository).repository;
}

function sameRepoName(a: Planned, b: Planned): boolean {
  return repoName(a) === repoName(b);
}

function describe(e: unknown): TargetOutcome['error'] {
  if (e instanceof GamelayerError) return { code: e.code, message: e.message, hint: e.hint };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
