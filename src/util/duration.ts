// Durations as users write them (`90s`, `45m`, `1h30m`, `500ms`, a bare number of seconds): on the command line
// (codebuild --timeout, build --media-wait) and in the environment (GAMELAYER_REPLICATION_TIMEOUT).
import { GamelayerError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `45m`, `1h30m`, `500ms`, or a bare number of seconds → milliseconds. */
export function parseDuration(flag: string, value: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = part.lastIndex;
  }
  if (text === '' || matched !== text.length || total <= 0) {
    throw new GamelayerError('cli.duration', `${flag} ${JSON.stringify(value)}: expected a duration such as 90s, 45m, 1h30m or 500ms`);
  }
  return Math.round(total);
}
