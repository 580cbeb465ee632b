// A short list of entries with something awkward in each field (non-ASCII paths, a link target with a quote, a hash
// that is no hex): the fixture the packed-store tests hold their two forms equal on.
import type { FileEntry } from '../../src/types.js';

/** xxh64 of no bytes. */
export const EMPTY_XXH64 = 'ef46db3751d8e999';

export const ODD_ENTRIES: readonly FileEntry[] = [
  { path: 'a', type: 'dir', mode: 493, size: 0 },
  { path: 'a/b', type: 'dir', mode: 493, size: 0 },
  { path: 'a/b/c', type: 'file', mode: 420, size: 0, xxh64: EMPTY_XXH64 },
  { path: 'a/bc', type: 'file', mode: 493, size: 12, xxh64: '00000000000000ff' },
  { path: 'a/ln', type: 'symlink', mode: 511, size: 0, linkTarget: '../ü "x"' },
  { path: 'ab', type: 'file', mode: 420, size: 3, xxh64: 'not-a-hex-hash' },
  { path: 'ü/日本', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' },
];
