// A path written into a command a shell runs (a buildspec's, a hint's): a folder named `my game` or `a'b$x` split the
// word or ran as shell. Plain paths stay as they are (the checked-in buildspecs/ read the same); others are
// single-quoted.

/** `s` as one shell word. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
