// Start, watch and stop CodeBuild builds. Watching polls BatchGetBuilds through poll.ts's loop (interval, back-off,
// deadline); a phase that moves counts as a change.
import { randomUUID } from 'node:crypto';
import {
  BatchGetBuildsCommand,
  StartBuildCommand,
  StopBuildCommand,
  type Build,
  type BuildPhase,
  type CodeBuildClient,
} from '@aws-sdk/client-codebuild';
import { GamelayerError } from '../errors.js';
import { codebuildError, retrying } from './client.js';
import { formatSeconds } from './duration.js';
import { pollUntilDone } from './poll.js';

export interface StartBuildOptions {
  client: CodeBuildClient;
  project: string;
  sourceVersion?: string;
  /** Environment variables for this build only (PLAINTEXT overrides). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  onRetry?: (message: string) => void;
  /** Backoff base for throttled calls; default 1 s. */
  retryBaseMs?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `K=V` flags into an env map; a clear error for a flag that is not one. */
export function parseEnvFlags(flags: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(0, eq) : '';
    if (!ENV_NAME.test(name)) {
      throw new GamelayerError('cli.env', `--env ${JSON.stringify(flag)}: expected NAME=VALUE with NAME of letters, digits and "_"`);
    }
    if (name.startsWith('CODEBUILD_')) {
      throw new GamelayerError('cli.env', `--env ${name}: CODEBUILD_ variables are reserved by CodeBuild and cannot be overridden`);
    }
    env[name] = flag.slice(eq + 1);
  }
  return env;
}

/**
 * The input of StartBuild and StartBuildBatch. The idempotency token makes a retried call (after a 5xx or a dropped
 * connection) start one build or batch, not two.
 */
export function startInput(opts: StartBuildOptions) {
  return {
    projectName: opts.project,
    idempotencyToken: randomUUID(),
    ...(opts.sourceVersion ? { sourceVersion: opts.sourceVersion } : {}),
    ...(opts.env && Object.keys(opts.env).length > 0
      ? { environmentVariablesOverride: Object.entries(opts.env).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' as const })) }
      : {}),
  };
}

/** A start call (StartBuild, StartBuildBatch) with the retries, back-off and retry notices both share. */
export function retryingStart<T>(opts: StartBuildOptions, what: string, call: () => Promise<T>): Promise<T> {
  return retrying(call, {
    what,
    baseDelayMs: opts.retryBaseMs ?? 1000,
    maxDelayMs: 30_000,
    attempts: 6,
    transient: true,
    signal: opts.signal,
    onRetry: (r) => opts.onRetry?.(`${what}: ${r.reason}; retrying in ${(r.waitMs / 1000).toFixed(1)}s`),
  });
}

export async function startBuild(opts: StartBuildOptions): Promise<Build> {
  const what = `StartBuild of project ${opts.project}`;
  const input = startInput(opts);
  try {
    const out = await retryingStart(opts, what, () => opts.client.send(new StartBuildCommand(input), { abortSignal: opts.signal }));
    if (!out.build?.id) throw new GamelayerError('codebuild.api', `${what}: the answer names no build`);
    return out.build;
  } catch (e) {
    throw codebuildError(e, what, await endpointOf(opts.client));
  }
}

export async function stopBuild(client: CodeBuildClient, id: string, signal?: AbortSignal): Promise<Build | undefined> {
  const what = `StopBuild of ${id}`;
  try {
    const out = await retrying(() => client.send(new StopBuildCommand({ id }), { abortSignal: signal }), {
      what,
      baseDelayMs: 500,
      maxDelayMs: 5000,
      attempts: 4,
      transient: true,
      signal,
    });
    return out.build;
  } catch (e) {
    throw codebuildError(e, what, await endpointOf(client));
  }
}

/** What the watcher saw change, in order. */
export type WatchEvent =
  | { kind: 'phase-started'; phase: string }
  | { kind: 'phase-ended'; phase: string; status: string; seconds?: number; contexts: string[] }
  | { kind: 'logs'; url: string }
  | { kind: 'throttled'; attempt: number; waitMs: number }
  | { kind: 'transient'; attempt: number; waitMs: number; message: string };

export interface WatchOptions {
  client: CodeBuildClient;
  id: string;
  /** Stop watching (not the build) after this long: a GamelayerError 'codebuild.watch-timeout'. */
  timeoutMs?: number;
  /** First poll interval; grows ×1.5 while nothing changes, up to maxPollMs (default 10 × pollMs, at most 30 s). */
  pollMs: number;
  maxPollMs?: number;
  /** Aborting ends the watch with an AbortError (the build keeps running). */
  signal?: AbortSignal;
  onEvent: (e: WatchEvent) => void;
  /** The region, to build a CloudWatch link when CodeBuild gives none. */
  region?: string;
}

const FAILED_PHASE = new Set(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED', 'CLIENT_ERROR']);

/** Polls until the build completes; returns the completed build. */
export async function watchBuild(opts: WatchOptions): Promise<Build> {
  const seen = new Map<string, 'started' | 'ended'>();
  let logsShown = false;
  return pollUntilDone<Build, Build>({
    timeoutMs: opts.timeoutMs,
    pollMs: opts.pollMs,
    maxPollMs: opts.maxPollMs,
    signal: opts.signal,
    what: `BatchGetBuilds of ${opts.id}`,
    endpoint: await endpointOf(opts.client),
    fetch: (signal) => getBuild(opts.client, opts.id, signal),
    onRetry: opts.onEvent,
    onTimeout: (last, elapsedMs) => watchTimeout(opts, last, elapsedMs),
    take: (build) => {
      let changed = false;
      for (const p of build.phases ?? []) changed = reportPhase(p, seen, opts.onEvent) || changed;
      if (!logsShown) {
        const url = logsUrl(build, opts.region);
        if (url) {
          opts.onEvent({ kind: 'logs', url });
          logsShown = true;
        }
      }
      return { changed, done: build.buildComplete ? { result: build } : undefined };
    },
  });
}

async function getBuild(client: CodeBuildClient, id: string, signal?: AbortSignal): Promise<Build> {
  const out = await client.send(new BatchGetBuildsCommand({ ids: [id] }), { abortSignal: signal });
  const build = out.builds?.find((b) => b.id === id);
  if (!build) {
    throw new GamelayerError('codebuild.not-found', `BatchGetBuilds: build ${id} not found`, 'check the build id and the region (--region or AWS_REGION)');
  }
  return build;
}

/** Emits a phase the first time it is seen and again when it ends; true when something was emitted. */
export function reportPhase(p: BuildPhase, seen: Map<string, 'started' | 'ended'>, emit: (e: WatchEvent) => void): boolean {
  const name = p.phaseType;
  // COMPLETED has no status of its own: the build's status says how it ended.
  if (!name || name === 'COMPLETED') return false;
  const state = seen.get(name);
  if (p.phaseStatus) {
    if (state === 'ended') return false;
    seen.set(name, 'ended');
    emit({ kind: 'phase-ended', phase: name, status: p.phaseStatus, seconds: phaseSeconds(p), contexts: contextMessages(p) });
    return true;
  }
  if (state) return false;
  seen.set(name, 'started');
  emit({ kind: 'phase-started', phase: name });
  return true;
}

function phaseSeconds(p: BuildPhase): number | undefined {
  if (p.durationInSeconds !== undefined) return p.durationInSeconds;
  if (p.startTime && p.endTime) return (p.endTime.getTime() - p.startTime.getTime()) / 1000;
  return undefined;
}

function contextMessages(p: BuildPhase): string[] {
  return (p.contexts ?? [])
    .filter((c) => c.statusCode || c.message)
    .map((c) => [c.statusCode, c.message].filter(Boolean).join(': '));
}

/** CodeBuild's own deep link, else one built from the log group and stream. */
export function logsUrl(build: Build, region?: string): string | undefined {
  const logs = build.logs;
  if (logs?.deepLink) return logs.deepLink;
  if (!logs?.groupName || !logs.streamName) return undefined;
  const r = region ?? build.arn?.split(':')[3];
  if (!r) return undefined;
  const enc = (s: string) => encodeURIComponent(encodeURIComponent(s)).replace(/%/g, '$');
  return `https://${r}.console.aws.amazon.com/cloudwatch/home?region=${r}#logsV2:log-groups/log-group/${enc(logs.groupName)}/log-events/${enc(logs.streamName)}`;
}

/** The first phase that did not succeed, with its context messages: why the build failed. */
export function failingPhase(build: Build): { phase: string; status: string; contexts: string[] } | undefined {
  const p = (build.phases ?? []).find((x) => x.phaseStatus && FAILED_PHASE.has(x.phaseStatus));
  return p ? { phase: p.phaseType ?? '?', status: p.phaseStatus!, contexts: contextMessages(p) } : undefined;
}

export function buildSeconds(build: Build): number | undefined {
  return build.startTime && build.endTime ? (build.endTime.getTime() - build.startTime.getTime()) / 1000 : undefined;
}

/** The error for a build that completed without succeeding. */
export function buildFailure(build: Build, region?: string): GamelayerError {
  const f = failingPhase(build);
  const where = f ? `: phase ${f.phase} ${f.status}${f.contexts.length ? `: ${f.contexts.join('; ')}` : ''}` : '';
  const url = logsUrl(build, region);
  return new GamelayerError('codebuild.build-failed', `build ${build.id} ${build.buildStatus ?? 'did not succeed'}${where}`, url ? `logs: ${url}` : undefined);
}

function watchTimeout(opts: WatchOptions, last: Build | undefined, elapsedMs: number): GamelayerError {
  const state = last ? `${last.buildStatus ?? 'IN_PROGRESS'} in phase ${last.currentPhase ?? '?'}` : 'not yet described by CodeBuild';
  return new GamelayerError(
    'codebuild.watch-timeout',
    `build ${opts.id} is still ${state} after ${formatSeconds(elapsedMs / 1000)} (--timeout): stopped watching; the build itself keeps running`,
    `watch again with: gamelayer codebuild watch ${opts.id}; stop it with: gamelayer codebuild stop ${opts.id}`,
  );
}


async function endpointOf(client: CodeBuildClient): Promise<string | undefined> {
  try {
    const ep = await client.config.endpoint?.();
    return ep ? `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path === '/' ? '' : ep.path}` : undefined;
  } catch {
    return undefined;
  }
}

/** One line per event, for a CI log or a terminal. */
export function formatWatchEvent(e: WatchEvent): string {
  switch (e.kind) {
    case 'phase-started':
      return `${e.phase.padEnd(17)} started`;
    case 'phase-ended': {
      const secs = e.seconds !== undefined ? formatSeconds(e.seconds) : '';
      const ctx = e.contexts.length ? `  ${e.contexts.join('; ')}` : '';
      return `${e.phase.padEnd(17)} ${e.status.padEnd(10)} ${secs}${ctx}`.trimEnd();
    }
    case 'logs':
      return `logs: ${e.url}`;
    case 'throttled':
      return `CodeBuild throttled BatchGetBuilds (${e.attempt} in a row); next poll in ${(e.waitMs / 1000).toFixed(1)}s`;
    case 'transient':
      return `BatchGetBuilds failed (${e.message}); retry ${e.attempt} in ${(e.waitMs / 1000).toFixed(1)}s`;
  }
}
