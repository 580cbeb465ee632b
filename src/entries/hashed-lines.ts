// Entry lines fed to a hash through one reused buffer (packed-list.ts and packed-entries.ts `hashLines`): one native
// call per chunk of lines instead of one per line, and no string grown line by line.
import type { Hash } from 'node:crypto';

/**
 * Writes `line` (UTF-8) into `out` at `at`, first handing `h` what `out` holds when the line might not fit; a line
 * longer than the buffer goes to `h` directly. Returns where the next line goes.
 */
export function putHashedLine(h: Hash, out: Buffer, at: number, line: string): number {
  // At most 3 bytes of UTF-8 per UTF-16 unit.
  if (at + line.length * 3 > out.length) {
    h.update(out.subarray(0, at));
    if (line.length * 3 > out.length) {
      h.update(line);
      return 0;
    }
    at = 0;
  }
  return at + out.write(line, at, 'utf8');
}
