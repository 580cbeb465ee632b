// Hand-written SVG line charts for the bench reports: log-log panels of medians with min–max whiskers, laid
// out in a grid, one legend per panel. No dependency; the output is plain, deterministic SVG text.
export interface Point {
  x: number;
  y: number;
  min?: number;
  max?: number;
}

export interface ChartSeries {
  name: string;
  color: string;
  dashed?: boolean;
  /** Hollow markers, to tell two series of one colour apart where a single point draws no line. */
  hollow?: boolean;
  points: Point[];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Tick label for an axis value. */
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  series: ChartSeries[];
  /** Linear axes instead of log ones (the default), e.g. for update numbers or ratios. */
  linearX?: boolean;
  linearY?: boolean;
}

const W = 460;
const H = 300;
const M = { left: 72, right: 34, top: 34, bottom: 78 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number) => (Math.round(v * 10) / 10).toString();

/** Log-scale domain covering the values, widened to whole 1-2-5 steps. */
function logDomain(values: number[]): [number, number] {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return [1, 10];
  let lo = Math.min(...pos);
  let hi = Math.max(...pos);
  if (hi / lo < 4) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / 2;
    hi = mid * 2;
  }
  return [stepBelow(lo), stepAbove(hi)];
}

const STEPS = [1, 2, 5];
function stepBelow(v: number): number {
  const e = Math.floor(Math.log10(v));
  for (let i = STEPS.length - 1; i >= 0; i--) if (STEPS[i]! * 10 ** e <= v * (1 + 1e-9)) return STEPS[i]! * 10 ** e;
  return 10 ** e;
}
function stepAbove(v: number): number {
  const e = Math.floor(Math.log10(v));
  for (const s of [...STEPS, 10]) if (s * 10 ** e >= v * (1 - 1e-9)) return s * 10 ** e;
  return 10 ** (e + 1);
}

/** 1-2-5 ticks inside the domain; only decades when there would be too many. */
function logTicks([lo, hi]: [number, number]): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const s of STEPS) {
      const v = s * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out.length > 9 ? out.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9) : out;
}

/** Linear domain from 0 (or below the values when they go negative) to a round step above the largest value. */
function linearDomain(values: number[]): [number, number] {
  const fin = values.filter((v) => Number.isFinite(v));
  const hi = fin.length ? Math.max(...fin) : 1;
  const lo = fin.length ? Math.min(0, ...fin) : 0;
  return [lo, hi > lo ? stepAbove(hi - lo) + lo : lo + 1];
}

/** About five round ticks inside a linear domain. */
function linearTicks([lo, hi]: [number, number]): number[] {
  const raw = (hi - lo) / 5;
  const e = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * e).find((x) => x >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi * (1 + 1e-9); v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function marker(x: number, y: number, s: ChartSeries): string {
  const fill = s.hollow ? '#fff' : s.color;
  return `<circle cx="${num(x)}" cy="${num(y)}" r="3.5" fill="${fill}" stroke="${s.color}" stroke-width="1.5"/>`;
}

function panelSvg(p: Panel, ox: number, oy: number): string {
  const xs = p.series.flatMap((s) => s.points.map((q) => q.x));
  const ys = p.series.flatMap((s) => s.points.flatMap((q) => [q.y, q.min ?? q.y, q.max ?? q.y]));
  const dx = p.linearX ? linearDomain(xs) : logDomain(xs);
  const dy = p.linearY ? linearDomain(ys) : logDomain(ys);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const fx = (v: number) => (p.linearX ? (v - dx[0]) / (dx[1] - dx[0]) : (Math.log10(v) - Math.log10(dx[0])) / (Math.log10(dx[1]) - Math.log10(dx[0])));
  const fy = (v: number) =>
    p.linearY ? (v - dy[0]) / (dy[1] - dy[0]) : (Math.log10(Math.max(v, dy[0])) - Math.log10(dy[0])) / (Math.log10(dy[1]) - Math.log10(dy[0]));
  const sx = (v: number) => ox + M.left + fx(v) * pw;
  const sy = (v: number) => oy + M.top + ph - fy(v) * ph;
  const out: string[] = [];
  out.push(`<text x="${num(ox + W / 2)}" y="${num(oy + 20)}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${num(ox + M.left)}" y="${num(oy + M.top)}" width="${num(pw)}" height="${num(ph)}" fill="none" stroke="#999"/>`);
  for (const t of p.linearY ? linearTicks(dy) : logTicks(dy)) {
    const y = sy(t);
    out.push(`<line x1="${num(ox + M.left)}" x2="${num(ox + M.left + pw)}" y1="${num(y)}" y2="${num(y)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(ox + M.left - 6)}" y="${num(y + 4)}" text-anchor="end">${esc(p.formatY(t))}</text>`);
  }
  for (const t of p.linearX ? linearTicks(dx) : logTicks(dx)) {
    const x = sx(t);
    out.push(`<line x1="${num(x)}" x2="${num(x)}" y1="${num(oy + M.top)}" y2="${num(oy + M.top + ph)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${num(x)}" y="${num(oy + M.top + ph + 16)}" text-anchor="middle">${esc(p.formatX(t))}</text>`);
  }
  out.push(`<text x="${num(ox + M.left + pw / 2)}" y="${num(oy + M.top + ph + 34)}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(
    `<text transform="translate(${num(ox + 12)} ${num(oy + M.top + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`,
  );
  p.series.forEach((s, i) => {
    const pts = [...s.points].filter((q) => (p.linearX || q.x > 0) && (p.linearY || q.y > 0)).sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="5 4"' : '';
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((q) => `${num(sx(q.x))},${num(sy(q.y))}`).join(' ')}"/>`);
    }
    for (const q of pts) {
      if (q.min !== undefined && q.max !== undefined && q.max > q.min) {
        out.push(`<line x1="${num(sx(q.x))}" x2="${num(sx(q.x))}" y1="${num(sy(q.min))}" y2="${num(sy(q.max))}" stroke="${s.color}"/>`);
      }
      out.push(marker(sx(q.x), sy(q.y), s));
    }
    // Legend below the axis label, two entries per line.
    const lx = ox + M.left + (i % 2) * (pw / 2);
    const ly = oy + M.top + ph + 52 + Math.floor(i / 2) * 16;
    out.push(`<line x1="${num(lx)}" x2="${num(lx + 26)}" y1="${num(ly - 4)}" y2="${num(ly - 4)}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(marker(lx + 13, ly - 4, s));
    out.push(`<text x="${num(lx + 32)}" y="${num(ly)}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Panels in a grid of `columns`, as one SVG document. */
export function chartSvg(title: string, panels: Panel[], columns = 2): string {
  const rows = Math.ceil(panels.length / columns);
  const width = W * columns;
  const height = H * rows + 30;
  const body = panels.map((p, i) => panelSvg(p, (i % columns) * W, 30 + Math.floor(i / columns) * H)).join('\n');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="Helvetica, Arial, sans-serif" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n` +
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>\n` +
    `${body}\n</svg>\n`
  );
}
