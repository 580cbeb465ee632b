// The stamp pass (cli/fast-noop/stamp-pass.ts) runs a build's command once more, hidden, to stamp the no-op the next
// run will be. Nobody sees it, so it must not build or write anything a no-op would not: if the trees or the registry
// changed since the build (a file saved during its push, another host's build of the line), its plan is no longer
// the build's, and it stops before the layers, images, record or push. The plan must hold exactly the build's layers
// (their input keys: contents, settings and places) on the bases it pinned.
import type { StampPassOf } from './steps/inputs.js';
import type { PlatformPlan } from './steps/plan.js';

/** How the pass's plan differs from the build it stamps, or undefined when it plans that build again. */
export function stampPassDifference(plans: readonly PlatformPlan[], of: StampPassOf): string | undefined {
  const planned = new Set(plans.flatMap((p) => [...p.plan.layers, ...p.sentinels.values()].map((l) => l.inputKey)));
  const built = new Set(of.layers);
  if (planned.size !== built.size || [...planned].some((k) => !built.has(k))) return 'its plan has other layers than the build';
  const bases = new Set(plans.flatMap((p) => (p.base.pinned ? [p.base.pinned.digest] : [])));
  if (bases.size !== new Set(of.bases).size || of.bases.some((d) => !bases.has(d))) return 'its bases are not the build\'s';
  return undefined;
}

/** How a stopped pass's error begins: the pass (cli/fast-noop/stamp-pass.ts) tells it from a failure by it. */
export const STAMP_PASS_STOP = 'stamp pass: not a no-op of the build: ';

/** The error that stops a stamp pass that is not a no-op of the build it stamps (`why`), before it writes anything. */
export function stampPassStop(why: string): Error {
  return new Error(`${STAMP_PASS_STOP}${why}`);
}
