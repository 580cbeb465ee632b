// gamelayer codebuild start --batch / watch --batch: a batch build and its jobs, with the exit rules of a single
// build (0 only when the batch SUCCEEDED; --timeout stops watching, not the batch; Ctrl-C leaves it running unless
// --stop-on-interrupt).
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { formatSeconds } from '../../codebuild/duration.js';
import type { Reporter } from '../../report/reporter.js';
import { printJson } from '../context.js';
import { endedJson, followUntilInterrupted, watchOptions, type FollowJson } from './codebuild-follow.js';

interface BatchFlags {
  project?: string;
  sourceVersion?: string;
  env?: Record<string, string>;
  watch?: boolean;
  timeoutMs?: number;
  pollMs: number;
  stopOnInterrupt?: boolean;
  region?: string;
  json?: boolean;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function startBatch(client: CodeBuildClient, flags: BatchFlags & { project: string }, reporter: Reporter): Promise<void> {
  const lib = await import('../../codebuild/batch.js');
  const batch = await lib.startBuildBatch({
    client,
    project: flags.project,
    sourceVersion: flags.sourceVersion,
    env: flags.env,
    retryBaseMs: Math.min(flags.pollMs, 1000),
    onRetry: (m) => reporter.warn(m),
  });
  const started: FollowJson = { id: batch.id!, ...(batch.arn ? { arn: batch.arn } : {}), ...(batch.buildBatchNumber !== undefined ? { number: batch.buildBatchNumber } : {}), batch: true };
  if (!flags.json) {
    out(`started build batch ${batch.id}`);
    if (batch.buildBatchNumber !== undefined) out(`batch number ${batch.buildBatchNumber}`);
    if (batch.arn) out(`arn ${batch.arn}`);
  }
  if (!flags.watch) {
    if (flags.json) printJson(started);
    else out(`follow it with: gamelayer codebuild watch --batch ${batch.id}`);
    return;
  }
  await followBatch(client, batch.id!, flags, reporter, started);
}

/** Watches the batch to its end, as `follow` a build; under --json the end is `base` with the status (endedJson). */
export async function followBatch(client: CodeBuildClient, id: string, flags: BatchFlags, reporter: Reporter, base: FollowJson): Promise<void> {
  const lib = await import('../../codebuild/batch.js');
  const watched = await followUntilInterrupted({
    noun: 'build batch',
    id,
    watchAgain: `watch --batch ${id}`,
    stopAgain: `stop --batch ${id}`,
    stopOnInterrupt: flags.stopOnInterrupt,
    watch: (signal) => lib.watchBuildBatch(watchOptions(client, id, flags, signal, reporter, lib.formatBatchEvent)),
    stop: async () => (await lib.stopBuildBatch(client, id))?.buildBatchStatus,
  });
  if (flags.json) {
    const b = watched?.batch;
    return endedJson(base, b && { status: b.buildBatchStatus, seconds: lib.batchSeconds(b), arn: b.arn }, !watched || b?.buildBatchStatus === 'SUCCEEDED' ? undefined : lib.batchFailure(watched, flags.region));
  }
  if (!watched) return;
  const secs = lib.batchSeconds(watched.batch);
  const took = secs !== undefined ? ` in ${formatSeconds(secs)}` : '';
  out(`build batch ${watched.batch.id} ${watched.batch.buildBatchStatus ?? 'ended'}${took}`);
  if (watched.batch.buildBatchStatus !== 'SUCCEEDED') throw lib.batchFailure(watched, flags.region);
}
