// Start and follow CodeBuild batch builds (a build graph): StartBuildBatch, then BatchGetBuildBatches for the
// batch and its jobs, and BatchGetBuilds for the phases and logs link of each job that runs. The same rules as a
// single build: the poll interval grows while nothing changes, throttled polls back off, a deadline bounds the
// watch, and only a batch that SUCCEEDED is a success.
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  StartBuildBatchCommand,
  StopBuildBatchCommand,
  type Build,
  type BuildBatch,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { GamelayerError } from '../errors.js';
import { failingPhase, formatWatchEvent, logsUrl, reportPhase, retryingStart, startInput, type StartBuildOptions, type WatchEvent, type WatchOptions } from './builds.js';
import { codebuildError, retrying } from './client.js';
import { formatSeconds } from './duration.js';
import { pollUntilDone } from './poll.js';

export async function startBuildBatch(opts: StartBuildOptions): Promise<BuildBatch> {
  const what = `StartBuildBatch of project ${opts.project}`;
  const input = startInput(opts);
  try {
    const out = await retryingStart(opts, what, () => opts.client.send(new StartBuildBatchCommand(input), { abortSignal: opts.signal }));
    if (!out.buildBatch?.id) throw new GamelayerError('codebuild.api', `${what}: the answer names no build batch`);
    return out.buildBatch;
  } catch (e) {
    throw codebuildError(e, what);
  }
}

export async function stopBuildBatch(client: CodeBuildClient, id: string): Promise<BuildBatch | undefined> {
  const what = `StopBuildBatch of ${id}`;
  try {
    const out = await retrying(() => client.send(new StopBuildBatchCommand({ id })), { what, baseDelayMs: 500, maxDelayMs: 5000, attempts: 4, transient: true });
    return out.buildBatch;
  } catch (e) {
    throw codebuildError(e, what);
  }
}

/** A batch id is `project:uuid` like a build's; its ARN says `build-batch/`. */
export function isBatchArn(id: string): boolean {
  return /^arn:aws[\w-]*:codebuild:[^:]*:\d+:build-batch\//.test(id);
}

export type BatchWatchEvent =
  | { kind: 'batch-phase'; phase: string; status?: string; seconds?: number }
  | { kind: 'job-status'; job: string; status: string; build?: string }
  | { kind: 'job'; job: string; event: WatchEvent }
  | { kind: 'throttled'; attempt: number; waitMs: number }
  | { kind: 'transient'; attempt: number; waitMs: number; message: string };

/** A single build's watch options (builds.ts), with the batch's events. */
export interface WatchBatchOptions extends Omit<WatchOptions, 'onEvent'> {
  onEvent: (e: BatchWatchEvent) => void;
}

export interface WatchedBatch {
  batch: BuildBatch;
  /** The last description of each job's build, by job identifier. */
  jobs: Map<string, Build>;
}

/** Polls until the batch completes; returns it with the last description of each job's build. */
export async function watchBuildBatch(opts: WatchBatchOptions): Promise<WatchedBatch> {
  const batchPhases = new Map<string, 'started' | 'ended'>();
  const jobStatus = new Map<string, string>();
  const jobPhases = new Map<string, Map<string, 'started' | 'ended'>>();
  const jobLogs = new Set<string>();
  const jobs = new Map<string, Build>();

  // One poll: the batch, then the build of each job that has one, for its phases and logs link, until it is
  // complete and reported.
  const fetch = async (signal?: AbortSignal) => {
    const batch = await getBatch(opts.client, opts.id, signal);
    const ids = (batch.buildGroups ?? [])
      .map((g) => ({ job: g.identifier ?? '?', id: buildIdOf(g.currentBuildSummary?.arn) }))
      .filter((j): j is { job: string; id: string } => !!j.id && !(jobs.get(j.job)?.buildComplete && jobLogs.has(j.job)));
    const builds = ids.length ? ((await opts.client.send(new BatchGetBuildsCommand({ ids: ids.map((j) => j.id) }), { abortSignal: signal })).builds ?? []) : [];
    return { batch, builds };
  };

  return pollUntilDone<{ batch: BuildBatch; builds: Build[] }, WatchedBatch>({
    timeoutMs: opts.timeoutMs,
    pollMs: opts.pollMs,
    maxPollMs: opts.maxPollMs,
    signal: opts.signal,
    what: `BatchGetBuildBatches of ${opts.id}`,
    fetch,
    onRetry: opts.onEvent,
    onTimeout: (last, elapsedMs) => batchTimeout(opts.id, last?.batch, elapsedMs),
    take: ({ batch, builds }) => {
      let changed = false;
      // In the order things happened: the batch's phases up to its jobs, then each job (started, its phases,
      // ended), then the end of the phases that held the jobs.
      const batchPhase = (ended: boolean) => {
        for (const p of batch.phases ?? []) {
          const name = p.phaseType;
          // SUCCEEDED / FAILED / STOPPED are the batch's end, said once when the watch returns.
          if (!name || ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(name)) continue;
          const state = batchPhases.get(name);
          if (!state && !ended) {
            batchPhases.set(name, 'started');
            opts.onEvent({ kind: 'batch-phase', phase: name });
            changed = true;
          }
          // The phases that hold the jobs end after them; the ones before the jobs, before them.
          const afterJobs = name === 'IN_PROGRESS' || name === 'COMBINE_ARTIFACTS';
          if (ended === afterJobs && p.phaseStatus && batchPhases.get(name) !== 'ended') {
            batchPhases.set(name, 'ended');
            opts.onEvent({ kind: 'batch-phase', phase: name, status: p.phaseStatus, seconds: p.durationInSeconds });
            changed = true;
          }
        }
      };
      batchPhase(false);
      for (const g of batch.buildGroups ?? []) {
        const job = g.identifier ?? '?';
        const status = g.currentBuildSummary?.buildStatus ?? 'PENDING';
        const running = status === 'PENDING' || status === 'IN_PROGRESS';
        const reportStatus = () => {
          if (jobStatus.get(job) === status) return;
          jobStatus.set(job, status);
          opts.onEvent({ kind: 'job-status', job, status, build: buildIdOf(g.currentBuildSummary?.arn) });
          changed = true;
        };
        if (running) reportStatus();
        const build = builds.find((b) => b.arn === g.currentBuildSummary?.arn || b.id === buildIdOf(g.currentBuildSummary?.arn));
        if (build) {
          jobs.set(job, build);
          const seen = jobPhases.get(job) ?? new Map<string, 'started' | 'ended'>();
          jobPhases.set(job, seen);
          for (const p of build.phases ?? []) changed = reportPhase(p, seen, (event) => opts.onEvent({ kind: 'job', job, event })) || changed;
          if (!jobLogs.has(job)) {
            const url = logsUrl(build, opts.region);
            if (url) {
              opts.onEvent({ kind: 'job', job, event: { kind: 'logs', url } });
              jobLogs.add(job);
            }
          }
        }
        if (!running) reportStatus();
      }
      batchPhase(true);
      return { changed, done: batch.complete ? { result: { batch, jobs } } : undefined };
    },
  });
}

async function getBatch(client: CodeBuildClient, id: string, signal?: AbortSignal): Promise<BuildBatch> {
  const out = await client.send(new BatchGetBuildBatchesCommand({ ids: [id] }), { abortSignal: signal });
  const batch = out.buildBatches?.find((b) => b.id === id || b.arn === id);
  if (!batch) throw new GamelayerError('codebuild.not-found', `BatchGetBuildBatches: build batch ${id} not found`, 'check the batch id and the region (--region or AWS_REGION)');
  return batch;
}

/** `arn:aws:codebuild:r:acct:build/project:uuid` → `project:uuid`. */
function buildIdOf(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const i = arn.indexOf(':build/');
  return i >= 0 ? arn.slice(i + ':build/'.length) : arn;
}


/** The error for a batch that completed without succeeding: each job that did not succeed, and why. */
export function batchFailure(w: WatchedBatch, region?: string): GamelayerError {
  const { batch } = w;
  const why: string[] = [];
  let url: string | undefined;
  for (const g of batch.buildGroups ?? []) {
    const job = g.identifier ?? '?';
    const status = g.currentBuildSummary?.buildStatus;
    if (status === 'SUCCEEDED') continue;
    if (!status) {
      why.push(`job ${job} not started${g.dependsOn?.length ? ` (depends on ${g.dependsOn.join(', ')})` : ''}`);
      continue;
    }
    const build = w.jobs.get(job);
    const f = build ? failingPhase(build) : undefined;
    why.push(`job ${job} ${status}${f ? `: phase ${f.phase} ${f.status}${f.contexts.length ? `: ${f.contexts.join('; ')}` : ''}` : ''}`);
    url ??= build ? logsUrl(build, region) : undefined;
  }
  return new GamelayerError('codebuild.build-failed', `build batch ${batch.id} ${batch.buildBatchStatus ?? 'did not succeed'}${why.length ? `: ${why.join('; ')}` : ''}`, url ? `logs: ${url}` : undefined);
}

function batchTimeout(id: string, last: BuildBatch | undefined, elapsedMs: number): GamelayerError {
  const jobs = (last?.buildGroups ?? []).map((g) => `${g.identifier} ${g.currentBuildSummary?.buildStatus ?? 'PENDING'}`).join(', ');
  const state = last ? `${last.buildBatchStatus ?? 'IN_PROGRESS'}${jobs ? ` (jobs: ${jobs})` : ''}` : 'not yet described by CodeBuild';
  return new GamelayerError(
    'codebuild.watch-timeout',
    `build batch ${id} is still ${state} after ${formatSeconds(elapsedMs / 1000)} (--timeout): stopped watching; the batch itself keeps running`,
    `watch again with: gamelayer codebuild watch --batch ${id}; stop it with: gamelayer codebuild stop --batch ${id}`,
  );
}


export function batchSeconds(batch: BuildBatch): number | undefined {
  return batch.startTime && batch.endTime ? (batch.endTime.getTime() - batch.startTime.getTime()) / 1000 : undefined;
}

/** One line per event: the batch's own phases, each job's status, and each job's phases prefixed by its name. */
export function formatBatchEvent(e: BatchWatchEvent): string {
  switch (e.kind) {
    case 'batch-phase':
      return `batch ${e.phase.padEnd(17)} ${e.status ? `${e.status.padEnd(10)} ${e.seconds !== undefined ? formatSeconds(e.seconds) : ''}` : 'started'}`.trimEnd();
    case 'job-status':
      return `[${e.job}] ${e.status}${e.build && e.status === 'IN_PROGRESS' ? ` (build ${e.build})` : ''}`;
    case 'job':
      return `[${e.job}] ${formatWatchEvent(e.event)}`;
    case 'throttled':
      return `CodeBuild throttled BatchGetBuildBatches (${e.attempt} in a row); next poll in ${(e.waitMs / 1000).toFixed(1)}s`;
    case 'transient':
      return `BatchGetBuildBatches failed (${e.message}); retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)}s`;
  }
}
