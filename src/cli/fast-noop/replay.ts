// What a no-op printed, kept without its timings and printed again with the fast path's own. The build's summary
// line says `scan 0.01s, total 0.03s`: the one part of a no-op's output that changes from run to run. An output with
// any other timing or a terminal's control characters (progress redrawn in place) is not kept: nothing to replay.

const SUMMARY_TIMES = /scan \d+\.\d\ds, total \d+\.\d\ds/g;
const OTHER_TIMES = /\d\.\d+ ?s\b| [KMG]?B\/s\b|[\r\x1b]/;

/** stdout cut around its one summary timing, and stderr, when both can be replayed; else undefined. */
export function maskedOutput(stdout: string, stderr: string): { stdout: string[]; stderr: string } | undefined {
  const parts = stdout.split(SUMMARY_TIMES);
  if (parts.length !== 2 || parts.some((p) => OTHER_TIMES.test(p)) || OTHER_TIMES.test(stderr)) return undefined;
  return { stdout: parts, stderr };
}

/** The masked stdout with `scanMs` and `totalMs` put back where the run's own were. */
export function replayedStdout(parts: readonly string[], scanMs: number, totalMs: number): string {
  return parts.join(`scan ${(scanMs / 1000).toFixed(2)}s, total ${(totalMs / 1000).toFixed(2)}s`);
}

/** Both outputs with the summary timings written as the mask test helpers compare them. */
export function maskTimings(text: string): string {
  return text.replace(SUMMARY_TIMES, 'scan X.XXs, total X.XXs');
}
