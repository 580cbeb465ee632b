// Which repository a push mounts each blob its target lacks from (OCI distribution's POST …/blobs/uploads/?mount=&from=).
import { mountTrialOf } from './mount-trial.js';
import type { PushTarget } from './target.js';

export interface MountPlan {
  /** Blob digest → the repository to mount it from; a blob not in the map is uploaded. */
  sources: Map<string, string>;
  /**
   * The sources were asked and hold their blobs: a registry answering such a mount with an upload session does not
   * mount (ECR without BLOB_MOUNTING), and the push stops asking.
   */
  sure: boolean;
}

/**
 * One source: every missing blob is tried there blind, since a mount the registry cannot do opens the upload the blob
 * needed anyway (one POST either way). Several (the studio's other games, the base's repository): each blob goes to
 * the first that holds it, asked through the target's availability check (HEADs, or ECR's batch call) only for the
 * blobs this repository lacks. A blind try from the first alone sent game C's engine again whenever game A's
 * repository, first in the list, had been pruned of it, though game B's held it. `ask`: one source is asked too (a
 * blob it lacks must then be found elsewhere, not uploaded from a session a failed mount opened).
 */
export async function mountPlan(target: PushTarget, repo: string, missing: string[], from: readonly string[], ask = false): Promise<MountPlan> {
  const others = from.filter((r) => r !== repo);
  // The registry refused a sure mount earlier in the run: nothing more is asked of the sources.
  if (!others.length || !missing.length || mountTrialOf(target).refused) return { sources: new Map(), sure: false };
  if (target.mountSources) return { sources: await target.mountSources(missing, others), sure: true };
  if (others.length === 1 && !ask) return { sources: new Map(missing.map((d) => [d, others[0]!])), sure: false };
  const sources = new Map<string, string>();
  for (const source of others) {
    const left = missing.filter((d) => !sources.has(d));
    if (!left.length) break;
    // A source this client may not read, or that does not exist, holds nothing it can mount.
    const absent = await target.availability.missing(source, left).catch(() => new Set(left));
    for (const d of left) if (!absent.has(d)) sources.set(d, source);
  }
  return { sources, sure: true };
}

export type MountAnswer = (outcome: 'mounted' | 'refused' | undefined) => void;

/**
 * The repository to mount a blob from in its upload (none: upload it). A source that surely holds the blob waits for
 * the run's trial of the registry (mount-trial.ts); the caller passes `answer` to the upload as its `onMountAnswer`
 * and calls it again (undefined) once the upload is over or never began: only the first call counts.
 */
export async function mountSource(target: PushTarget, source: string | undefined, sure: boolean): Promise<{ source?: string; answer: MountAnswer }> {
  const none: MountAnswer = () => {};
  if (source === undefined || !sure) return { source, answer: none };
  const trial = mountTrialOf(target);
  if (!(await trial.mayMount())) return { answer: none };
  let told = false;
  return {
    source,
    answer: (outcome) => {
      if (!told) trial.answer(outcome);
      told = true;
    },
  };
}

/**
 * `upload(mountFrom, onMountAnswer)` with the mount source `mountSource` gives, the run's trial answered however the
 * upload ends (a failed or cancelled one leaves the verdict open).
 */
export async function uploadTryingMount<T>(
  target: PushTarget,
  source: string | undefined,
  sure: boolean,
  upload: (mountFrom: string | undefined, onMountAnswer: MountAnswer) => Promise<T>,
): Promise<T> {
  const { source: mountFrom, answer } = await mountSource(target, source, sure);
  try {
    return await upload(mountFrom, answer);
  } finally {
    answer(undefined);
  }
}
