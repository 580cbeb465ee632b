// What /dev/null is, when it is no longer the null device (dev-null-guard.ts).
import { lstatSync } from 'node:fs';

/** Undefined while `file` is the null device (character device 1:3); else what it became, for a message. */
export function describeDevNull(file = '/dev/null'): string | undefined {
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    return `${file} is gone (${(e as NodeJS.ErrnoException).code})`;
  }
  if (st.isCharacterDevice() && st.rdev === 0x103) return undefined;
  const kind = st.isFile() ? 'a regular file' : st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a folder' : st.isCharacterDevice() ? `another character device (rdev ${st.rdev})` : 'something else';
  return (
    `${file} is no longer the null device: it is ${kind}, uid ${st.uid}, gid ${st.gid}, mode ${(st.mode & 0o7777).toString(8)}, ` +
    `${st.size} bytes, modified ${st.mtime.toISOString()}, changed ${st.ctime.toISOString()} (restore: rm -f /dev/null && mknod -m 666 /dev/null c 1 3)`
  );
}
