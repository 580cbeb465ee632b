// A value made on first use and kept: module-level zod schemas cost their construction at every start, used or not.

/** `make` run on the first call only; every call returns its value. */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
