// Whether an image's platform is the one wanted: one rule for a base read from a registry (registry/base-pull.ts),
// a local base (base-image.ts) and the fast path of a no-op checking a base's tag (cli/fast-noop/registry-check.ts).
// No imports: the fast path's bundle loads this.

interface PlatformFields {
  os?: unknown;
  architecture?: unknown;
  variant?: unknown;
}

/** The same os and architecture, and the same variant when one is wanted (an empty one is none). */
export function samePlatform(have: PlatformFields, wanted: PlatformFields): boolean {
  return have.os === wanted.os && have.architecture === wanted.architecture && (!wanted.variant || have.variant === wanted.variant);
}
