// The baseline of a pull-cost report made after a build moved its line's tag (CodeBuild's post_build, without a
// BASELINE_TAG or a webhook's previous commit): the line's previous build, as the build read it through the line's
// tag before it pushed. Its record keeps it (`previous`); the line's tag names this very build by then.
import type { BuildRecordSummary } from '../state/record-summary.js';

/**
 * The image tag in `repository` of the build the last build was planned on, or why there is none. `where` names a
 * reference's `host/repository` as the registry client parses it (that stage is above this one: passed in). After
 * a no-op planned on the last build as `repository` holds it (`rerunOn`: the reference the last run read it from,
 * state/last-run.ts) that is the last build itself, whatever its record's `previous` says (what its content was first
 * planned on; before stop 48 without a tag). A no-op planned elsewhere (another repository, the local last build)
 * proves nothing about `repository`: its `previous` answers, as after a real build.
 */
export function plannedOnTag(
  last: Pick<BuildRecordSummary, 'previous' | 'tags'> | undefined,
  repository: string,
  where: (ref: string) => string,
  rerunOn?: string,
): { tag: string; rerun?: true } | { none: string } {
  if (!last) return { none: 'no local build, so no build it was planned on (build first)' };
  if (rerunOn !== undefined && last.tags[0] !== undefined && where(rerunOn) === where(repository)) return { tag: last.tags[0], rerun: true };
  const previous = last.previous;
  if (!previous) return { none: `the last build (${last.tags[0]}) was planned on no earlier build in a registry` };
  if (where(previous.ref) !== where(repository)) return { none: `the last build (${last.tags[0]}) was planned on ${previous.ref}, not on a build in ${repository}` };
  // Records written before stop 48 name the line's tag only, which has moved on since.
  if (previous.tag === undefined) return { none: `the last build (${last.tags[0]}) names the tag of the build it was planned on (${previous.ref}) only, which has moved on` };
  return { tag: previous.tag };
}
