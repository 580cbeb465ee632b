// A registry base image that moved between two builds, and how a message names it (build, diff): kept apart from
// base-source.ts so the CLI prints it without loading the base readers.

export interface BaseMove {
  platform: string;
  ref: string;
  from: string;
  to: string;
  /** Set when gamelayer.yaml names another reference than the previous build's (a tag pinned by digest, say). */
  fromRef?: string;
}

/**
 * `base image REF (PLATFORM) moved: A → B`; when gamelayer.yaml names another reference than the previous build's,
 * `base image changed (PLATFORM): OLD-REF (A) → NEW-REF (B)`, each digest left out where its reference holds it.
 */
export function baseMoveText(m: BaseMove): string {
  const named = (ref: string, digest: string) => (ref.endsWith(`@${digest}`) ? ref : `${ref} (${digest})`);
  return m.fromRef === undefined
    ? `base image ${m.ref} (${m.platform}) moved: ${m.from} → ${m.to}`
    : `base image changed (${m.platform}): ${named(m.fromRef, m.from)} → ${named(m.ref, m.to)}`;
}
