// Text read from a registry (a record's game, dates, tags) is anyone's: an escape sequence or a newline in it must
// not reach the terminal as such (a forged line, a retitled window). Such a string is shown quoted, as diff shows an
// odd path; JSON output keeps strings as they are.

/** Every string in `v` that holds a control character, quoted (JSON string syntax); the rest as it is. */
export function printable<T>(v: T): T {
  if (typeof v === 'string') return (/[\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : v) as T;
  if (Array.isArray(v)) return v.map(printable) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, printable(x)])) as T;
  return v;
}
