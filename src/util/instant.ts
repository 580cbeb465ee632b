// A build's creation time (a record's `createdAt`, the `org.opencontainers.image.created` annotation) is RFC 3339
// text. Compared as text, times written in another zone or with and without fractional seconds sort wrong:
// "2026-12-07T10:00:00+01:00" (09:00 UTC) sorted after "2026-12-07T09:30:00Z", and "…09:30:00Z" after
// "…09:30:00.250Z" ('Z' > '.'). They are compared as the instants they name.

/** RFC 3339 date-time (section 5.6): a zone is required, so no machine's own zone decides the instant. */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The instant `text` names, as (fractional) milliseconds since the epoch; undefined for text that is not an RFC 3339
 * date-time with a zone, or names no real date (month 13, 25 o'clock). Digits of the fraction beyond the millisecond
 * count as a fraction of it, so `.0001Z` is after `Z`.
 */
export function instantMs(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, date, time, fraction = '', zone] = m;
  const ms = Date.parse(`${date}T${time}${zone!.toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 24:00:00 and February 30 into the next day; RFC 3339 names neither.
  const [y, mo, d] = date!.split('-').map(Number) as [number, number, number];
  if (Number(time!.slice(0, 2)) > 23 || new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return undefined;
  return ms + Number(`0.${fraction || '0'}`) * 1000;
}

/**
 * A creation time as UTC text for people, `YYYY-MM-DD hh:mm` (with `:ss` when `seconds`): a time written in another
 * zone ("…T05:00:00-05:00") was shown as its own digits, read as UTC (05:00 for 10:00). Text that is no RFC 3339
 * date-time is given as it is.
 */
export function utcText(text: string, seconds = false): string {
  const ms = instantMs(text);
  if (ms === undefined) return text;
  return new Date(Math.floor(ms)).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ');
}

/**
 * Orders things by a creation time, newest first: those whose time is not an RFC 3339 date-time after all the others
 * (as the oldest), among themselves in the order `tie` gives, as are equal instants.
 */
export function newestFirst<T>(createdAt: (x: T) => string, tie: (a: T, b: T) => number): (a: T, b: T) => number {
  return (a, b) => olderFirst(createdAt(b), createdAt(a)) || tie(a, b);
}

/**
 * Two creation times in time order: negative when `a` is the older, 0 for the same instant (or two texts that are
 * no RFC 3339 date-time); a text that is none comes before (is older than) every one that is.
 */
export function olderFirst(a: string, b: string): number {
  const [x, y] = [instantMs(a), instantMs(b)];
  if (x !== undefined && y !== undefined) return x === y ? 0 : x - y;
  if (x === undefined && y !== undefined) return -1;
  if (y === undefined && x !== undefined) return 1;
  return 0;
}
