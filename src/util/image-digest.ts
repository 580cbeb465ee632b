// The digest an image reference pins (`host/repo:tag@sha256:…`), for the specs' and the JSON outputs' `digest`.

/** The digest after the reference's `@`; undefined for a reference by tag alone (there is nothing to pin). */
export function digestOf(ref: string): string | undefined {
  const at = ref.lastIndexOf('@');
  return at < 0 ? undefined : ref.slice(at + 1);
}
