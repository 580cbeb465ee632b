// Durations on the command line (`--timeout 45m`, `--poll-interval 2s`) and in output (`1m 05s`).
// The parser lives in util/ (the registry stage reads a duration from the environment too).
export { parseDuration } from '../util/duration.js';

/** Whole seconds as `42s`, `3m 07s`, `1h 02m`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
