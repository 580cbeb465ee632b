// What one target of a multi-target push got, and its one-line description: its own module so that the CLI prints
// it without loading the push machinery (and the AWS SDK) at start.
import { formatBytes } from '../../report/reporter.js';
import type { PushBuildResult } from './push.js';
import { count } from '../../report/plural.js';

export interface TargetOutcome {
  repository: string;
  /** ECR region, when known. */
  region?: string;
  /** pushed: got every image and the record; replicated: ECR copied them there; failed: got no manifest of this build. */
  status: 'pushed' | 'replicated' | 'failed';
  /** Blobs uploaded (and bytes) by this run to this target. */
  uploaded: number;
  mounted: number;
  skipped: number;
  bytesSent: number;
  /** Digests of the blobs this run uploaded to this target (its share of the blob phase, then its own push). */
  uploadedBlobs?: string[];
  push?: PushBuildResult;
  /** For a replicated target: the repository it was replicated from. */
  replicatedFrom?: string;
  error?: { code: string; message: string; hint?: string };
}

/** One line per target, for the CLI and the error. */
export function outcomeText(t: TargetOutcome): string {
  if (t.status === 'failed') return `failed: ${t.error?.message ?? 'unknown error'}`;
  if (t.status === 'replicated') return `replicated from ${t.replicatedFrom} (ECR replication COMPLETE for every image)`;
  return `pushed (${count(t.uploaded, 'blob')} uploaded, ${t.mounted} mounted, ${t.skipped} already there; ${formatBytes(t.bytesSent)} sent)`;
}

