// Text read from a registry (a record's game, dates, tags) is anyone's: an escape sequence or a newline in it must
// not reach the terminal as such (a forged line, a retitled window). Such a string is shown quoted, as diff shows an
// odd path; JSON output keeps strings as they are.

/** Every string in `v` that holds a control character, quoted (JSON string syntax); the rest as it is. */
export function printable<T>(v: T): T {
  // C1 controls too (U+0080..U+009F: U+009B is CSI to xterm and VTE), which JSON.stringify leaves as they are.
  if (typeof v === 'string') return (/[\u0000-\u001f\u007f-\u009f]/.test(v) ? JSON.stringify(v).replace(C1_AND_DEL, escapeChar) : v) as T;
  if (Array.isArray(v)) return v.map(printable) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, printable(x)])) as T;
  return v;
}

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const C1_AND_DEL = /[\u007f-\u009f]/g;

const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `text` with every control character but tab and newline written as a `\uXXXX` escape: for error messages, which
 * echo what a registry, an archive or a file name said (a platform, a failure reason, a path) and may span lines.
 */
export function visibleControls(text: string): string {
  return text.replace(CONTROLS, escapeChar);
}
