// Parsing of run-local's own flags: durations and environment entries, with errors that name the flag.
import { GamelayerError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90` (seconds), `90s`, `1500ms`, `5m`, `1h` → milliseconds. */
export function durationMs(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!) : NaN;
  if (!m || !(ms > 0)) {
    throw new GamelayerError('run.option', `${flag}: got ${JSON.stringify(value)}; expected a duration such as 90s, 5m or 1h`);
  }
  return ms;
}

/** `K=V` (V may be empty or hold `=`); K must be a name a shell could export. */
export function envEntry(flag: string, value: string): string {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new GamelayerError('run.option', `${flag}: got ${JSON.stringify(value)}; expected NAME=VALUE with NAME made of letters, digits and _`);
  }
  return value;
}

export function portNumber(flag: string, value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new GamelayerError('run.option', `${flag}: got ${JSON.stringify(value)}; expected a port from 1 to 65535`);
  return n;
}
