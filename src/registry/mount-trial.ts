// Whether a registry mounts, learned once per run. A registry that does not mount (ECR without BLOB_MOUNTING) answers
// a mount of a blob its source surely holds with an upload session: then no other mount of the run is asked. Before,
// each image of a build and each upload slot found out for itself (six refused mounts in a four-tree push).
import type { PushTarget } from './target.js';

export class MountTrial {
  private verdict: 'unknown' | 'mounts' | 'refuses' = 'unknown';
  /** Settles when the mount being tried is answered; while it runs, the other mounts wait for its answer. */
  private trying: Promise<void> | undefined;
  private release: (() => void) | undefined;

  get refused(): boolean {
    return this.verdict === 'refuses';
  }

  /**
   * Whether to ask a mount of a blob the source surely holds. The first caller asks at once and must `answer`; the
   * others wait for that answer (a failed try leaves the verdict open: the next one asks).
   */
  async mayMount(): Promise<boolean> {
    while (this.verdict === 'unknown' && this.trying) await this.trying;
    if (this.verdict !== 'unknown') return this.verdict === 'mounts';
    this.trying = new Promise((resolve) => (this.release = resolve));
    return true;
  }

  /**
   * What a mount let through by `mayMount` got: mounted, an upload session (`refused`), or no answer (an error, or no
   * mount asked). Called as soon as the mount POST is answered, not when the blob is up.
   */
  answer(outcome: 'mounted' | 'refused' | undefined): void {
    if (outcome === 'refused') this.verdict = 'refuses';
    else if (outcome === 'mounted' && this.verdict === 'unknown') this.verdict = 'mounts';
    const release = this.release;
    this.trying = this.release = undefined;
    release?.();
  }
}

const trials = new WeakMap<PushTarget, MountTrial>();

/** The run's trial of `target` (one target serves a run's pushes to one repository: one ECR token, one verdict). */
export function mountTrialOf(target: PushTarget): MountTrial {
  let t = trials.get(target);
  if (!t) trials.set(target, (t = new MountTrial()));
  return t;
}
