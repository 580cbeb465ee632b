// Amazon ECR replication: a registry whose replication rules (DescribeRegistry) copy a repository to other regions
// gets one push, and the other regions their copy from ECR itself. This module tells which destination regions a
// registry's rules cover for a repository, and waits — bounded, with progress — until
// DescribeImageReplicationStatus says each image is COMPLETE in each of them. FAILED stops the wait at once; a
// destination still without the image at the deadline is a timeout naming region and image.
import { DescribeImageReplicationStatusCommand, DescribeRegistryCommand, type ReplicationRule } from '@aws-sdk/client-ecr';
import { GamelayerError } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { sleep } from '../util/retry.js';
import type { EcrApi } from './ecr.js';
import { REPLICATION_TIMEOUT_ENV, REPLICATION_TIMEOUT_MS } from './replication-timeout.js';

export { REPLICATION_TIMEOUT_ENV, REPLICATION_TIMEOUT_MS, replicationTimeoutMs } from './replication-timeout.js';

/** Where a replicated image should land: a region of an account (registry id). */
export interface ReplicationDestination {
  region: string;
  registryId: string;
}

/** Default pause between two DescribeImageReplicationStatus rounds. */
export const REPLICATION_POLL_MS = 10_000;

/** Whether a rule applies to the repository: no filter, or one of its PREFIX_MATCH filters starts its name. */
function ruleCovers(rule: ReplicationRule, repository: string): boolean {
  const filters = rule.repositoryFilters ?? [];
  return filters.length === 0 || filters.some((f) => (f.filterType ?? 'PREFIX_MATCH') === 'PREFIX_MATCH' && repository.startsWith(f.filter ?? ''));
}

/** Of `wanted`, the destinations the source registry's replication rules copy `repository` to. */
export async function replicatedDestinations(api: EcrApi, repository: string, wanted: ReplicationDestination[]): Promise<ReplicationDestination[]> {
  if (!wanted.length) return [];
  const out = await api.call('DescribeRegistry', () => api.sdk.send(new DescribeRegistryCommand({})));
  const rules = (out.replicationConfiguration?.rules ?? []).filter((r) => ruleCovers(r, repository));
  const covered = (d: ReplicationDestination) =>
    rules.some((r) => (r.destinations ?? []).some((x) => x.region === d.region && (x.registryId ?? out.registryId) === d.registryId));
  return wanted.filter(covered);
}

export interface WaitForReplicationOptions {
  api: EcrApi;
  /** Repository in the source registry. */
  repository: string;
  /** The images (manifest or index digests) to see in each destination, with a name for messages. */
  images: { name: string; digest: string }[];
  destinations: ReplicationDestination[];
  timeoutMs?: number;
  pollMs?: number;
  reporter?: Reporter;
  /** The caller's cancel: the wait ends at the next poll (an AbortError from the pause). */
  signal?: AbortSignal;
  /** For tests of the bound: the clock and the pause. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ReplicationWaitResult {
  /** Per destination region, when every image was there (ms after the wait began). */
  completed: { region: string; registryId: string; afterMs: number }[];
  polls: number;
}

export async function waitForReplication(opts: WaitForReplicationOptions): Promise<ReplicationWaitResult> {
  const reporter = opts.reporter ?? silentReporter;
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? ((ms: number) => sleep(ms, opts.signal));
  const timeoutMs = opts.timeoutMs ?? REPLICATION_TIMEOUT_MS;
  const pollMs = opts.pollMs ?? REPLICATION_POLL_MS;
  const started = now();
  const key = (d: ReplicationDestination) => `${d.registryId}/${d.region}`;
  // What is still awaited: destination → image digests not yet COMPLETE there.
  const left = new Map(opts.destinations.map((d) => [key(d), new Set(opts.images.map((i) => i.digest))]));
  const completed: ReplicationWaitResult['completed'] = [];
  const nameOf = (digest: string) => opts.images.find((i) => i.digest === digest)?.name ?? digest;
  const total = opts.destinations.length * opts.images.length;
  const task = reporter.task(`replication of ${opts.repository} to ${opts.destinations.map((d) => d.region).join(', ')}`, total, 'items');
  let polls = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    polls++;
    for (const image of opts.images) {
      if (![...left.values()].some((s) => s.has(image.digest))) continue;
      const out = await opts.api.call('DescribeImageReplicationStatus', () =>
        opts.api.sdk.send(
          new DescribeImageReplicationStatusCommand({ repositoryName: opts.repository, imageId: { imageDigest: image.digest }, registryId: opts.api.registryId }),
        ),
      );
      for (const d of opts.destinations) {
        const waiting = left.get(key(d))!;
        if (!waiting.has(image.digest)) continue;
        const s = (out.replicationStatuses ?? []).find((x) => x.region === d.region && (x.registryId ?? d.registryId) === d.registryId);
        if (s?.status === 'FAILED') {
          throw new GamelayerError(
            'push.replication-failed',
            `ECR replication of ${opts.repository}@${image.digest} (${nameOf(image.digest)}) to ${d.region} (registry ${d.registryId}) failed${s.failureCode ? `: ${s.failureCode}` : ''}`,
            `check the replication rules and the destination's permissions; push to ${d.region} directly with --no-replication`,
          );
        }
        if (s?.status === 'COMPLETE') {
          waiting.delete(image.digest);
          task.tick(1);
          if (waiting.size === 0) {
            completed.push({ ...d, afterMs: now() - started });
            reporter.info(`replication: ${opts.repository} is complete in ${d.region} (${opts.images.length} images, ${((now() - started) / 1000).toFixed(1)}s)`);
          }
        }
      }
    }
    const open = opts.destinations.filter((d) => left.get(key(d))!.size > 0);
    if (!open.length) {
      task.done('complete');
      return { completed, polls };
    }
    if (now() - started >= timeoutMs) {
      task.done('timed out');
      const d = open[0]!;
      const missing = [...left.get(key(d))!];
      throw new GamelayerError(
        'push.replication-timeout',
        `ECR replication: ${d.region} (registry ${d.registryId}) still lacks ${opts.repository}@${missing[0]} (${nameOf(missing[0]!)})` +
          `${missing.length > 1 ? ` and ${missing.length - 1} more images` : ''} after ${Math.round((now() - started) / 1000)}s` +
          (open.length > 1 ? `; ${open.slice(1).map((x) => x.region).join(', ')} too` : ''),
        `no deploy spec for ${open.map((x) => x.region).join(', ')} was written from this push; raise ${REPLICATION_TIMEOUT_ENV} (e.g. 1h), or push to ${d.region} directly with --no-replication`,
      );
    }
    reporter.info(
      `replication: waiting for ${open.map((d) => `${d.region} (${opts.images.length - left.get(key(d))!.size}/${opts.images.length})`).join(', ')}`,
    );
    await pause(Math.min(pollMs, Math.max(0, timeoutMs - (now() - started))));
  }
}
