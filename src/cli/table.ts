// Plain aligned text tables for terminal and log output.
export function table(header: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * A table no wider than `width` (default: the terminal's, else 80): the `shrink` column (the widest by default)
 * is cut with "…" until the table fits; every other column keeps its width. The cut is in the middle, so both ends
 * stay: `latest-engine-media` and `latest-engine` stay told apart, as do a digest tag and its `.sig`.
 */
export function fitTable(header: string[], rows: string[][], rightAligned: number[] = [], opts: { width?: number; shrink?: number } = {}): string {
  const width = opts.width ?? terminalWidth();
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const total = widths.reduce((s, w) => s + w, 0) + 2 * (widths.length - 1);
  if (total <= width) return table(header, rows, rightAligned);
  const col = opts.shrink ?? widths.indexOf(Math.max(...widths));
  const room = Math.max(header[col]!.length, 6, widths[col]! - (total - width));
  const tail = Math.min(8, Math.floor((room - 1) / 3));
  const cut = (s: string) => (s.length > room ? `${s.slice(0, room - 1 - tail)}…${s.slice(s.length - tail)}` : s);
  return table(header, rows.map((r) => r.map((c, i) => (i === col ? cut(c) : c))), rightAligned);
}

/** Columns of the terminal stdout goes to; 80 for pipes and files (what a CI log shows well). */
export function terminalWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80;
}
