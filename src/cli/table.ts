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
 * A table no wider than `width` (default: the terminal's; for pipes and files `COLUMNS`, else 80): the `shrink` columns (default: every column) are cut with "…", the widest first, one character at a
 * time, until the table fits, so two long columns share the cut instead of one losing all of it (`ls REPO` cut its
 * tags to "1.0.…p" beside a long KIND). No column goes below its header or 6 characters. The cut is in the middle,
 * so both ends stay: `latest-engine-media` and `latest-engine` stay told apart, as do a digest tag and its `.sig`.
 */
export function fitTable(header: string[], rows: string[][], rightAligned: number[] = [], opts: { width?: number; shrink?: number | number[] } = {}): string {
  const width = opts.width ?? terminalWidth();
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  let over = widths.reduce((s, w) => s + w, 0) + 2 * (widths.length - 1) - width;
  if (over <= 0) return table(header, rows, rightAligned);
  const cols = opts.shrink === undefined ? header.map((_, i) => i) : [opts.shrink].flat();
  const floor = (i: number) => Math.max(header[i]!.length, 6);
  const room = [...widths];
  while (over > 0) {
    let widest = -1;
    for (const i of cols) if (room[i]! > floor(i) && (widest < 0 || room[i]! > room[widest]!)) widest = i;
    if (widest < 0) break; // every column at its floor: the table stays wider than asked
    room[widest]!--;
    over--;
  }
  const cut = (s: string, w: number) => {
    if (s.length <= w) return s;
    const tail = Math.min(16, Math.floor((w - 1) / 2));
    return `${s.slice(0, w - 1 - tail)}…${s.slice(s.length - tail)}`;
  };
  return table(header, rows.map((r) => r.map((c, i) => cut(c, room[i]!))), rightAligned);
}

/** Columns of the terminal stdout goes to; for pipes and files `COLUMNS` when set, else 80 (what a CI log shows well). */
export function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}
