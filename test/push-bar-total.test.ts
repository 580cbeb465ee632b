// The push bar on a terminal: with the bytes announced before the first upload (Reporter.pushPlanned), its total
// is the whole push from the first frame, and its percentage never goes back as more uploads start.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { closeReporters, ttyReporter } from '../src/report/reporter.js';

afterEach(() => closeReporters());

/** A terminal of 80 columns that keeps what is written to it. */
function terminal() {
  const out = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 40, cursorTo: () => true, moveCursor: () => true, clearLine: () => true, clearScreenDown: () => true });
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

/** The push bar's percentage and total in every frame drawn. */
function frames(text: string): { percent: number; total: string }[] {
  return [...text.matchAll(/push\s+\|[^|]*\| (\d+)% [\d.]+ (?:B|KiB) ?\/([\d.]+ (?:B|KiB))/g)].map((m) => ({ percent: Number(m[1]), total: m[2]! }));
}

const frame = () => new Promise((r) => setTimeout(r, 150)); // the bars redraw 10 times a second

describe('push bar', () => {
  it('shows the announced total from the first frame; the percentage never goes back', async () => {
    const t = terminal();
    const reporter = ttyReporter(t.out);
    reporter.pushPlanned?.(3 * 1024);
    const a = reporter.task('blob aaaaaaaaaaaa (one)', 1024, 'bytes');
    a.tick(1024);
    a.done();
    await frame();
    const b = reporter.task('blob bbbbbbbbbbbb (two)', 1024, 'bytes');
    b.tick(512);
    await frame();
    b.done();
    const c = reporter.task('blob cccccccccccc (two)', 1024, 'bytes');
    c.done();
    await frame();
    closeReporters();
    const shown = frames(t.text());
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown.map((f) => f.total))).toEqual(new Set(['3.00 KiB']));
    for (let i = 1; i < shown.length; i++) expect(shown[i]!.percent).toBeGreaterThanOrEqual(shown[i - 1]!.percent);
    expect(shown.at(-1)!.percent).toBe(100);
  });
});
