// The errno code of a Node system error: its own module, so that what only needs it (the fast path's bundle
// through util/atomic-write.ts) does not load the error codes' table with errors.ts.

/** The errno code of a Node system error, if it is one. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
