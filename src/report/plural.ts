// Counts in messages: "1 build", "2 builds" (never "1 builds").

/** `n` and the noun, singular for exactly one; `plural` when adding "s" is not the plural ("1 entry", "2 entries"). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
