// A file's identity for "is it still the file I saw": any write changes its ctime, a replacement (a temp file
// renamed in) its inode.
import type { BigIntStats } from 'node:fs';

export function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}
