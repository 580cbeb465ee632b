// prune --apply on a repository of many builds said nothing until it ended (119 s for 400 builds in a CI log, with
// stdout and stderr not a terminal): it now reports its reads and its deletes as the other long commands report
// their steps, and in plain output (a pipe, CI) prints progress lines while they run, at each tenth of the work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeManyBuilds } from './support/many-builds.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';

let reg: TestRegistry;
const REPO = 'studio/progress';
beforeAll(async () => {
  reg = await startRegistry();
  await writeManyBuilds(reg.url, REPO, 60);
}, 120_000);
afterAll(async () => {
  await reg?.stop();
});

/** The progress lines of `label` on stderr: count done, total, percent. */
function progressLines(stderr: string, label: string): { at: number; total: number; percent: number }[] {
  const re = new RegExp(`^${label}: (\\d+)/(\\d+) \\((\\d+)%\\)$`, 'gm');
  return [...stderr.matchAll(re)].map((m) => ({ at: Number(m[1]), total: Number(m[2]), percent: Number(m[3]) }));
}

describe('prune --apply with stderr a pipe', () => {
  it('prints progress lines of its reads and deletes while they run, and a line when each ends', async () => {
    const before = Object.keys(await storedTags(reg.storageDir, REPO)).length;
    const r = await runCli(['prune', `${reg.host}/${REPO}`, '--keep', '5', '--apply'], { env: { CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('deleted 55 builds');

    for (const [label, done] of [['prune read', /^prune read: (\d+ records, \d+) tags \(\d+\.\d\ds\)$/m], ['prune delete', /^prune delete: (\d+) manifests \(\d+\.\d\ds\)$/m]] as const) {
      const lines = progressLines(r.stderr, label);
      // A line at each tenth reached before the end (the reads run 8 at a time, the deletes one by one: each tenth
      // is crossed by a step of one; a slow run adds lines every 10 s), counts rising, every line with the same total.
      const tenths = lines.map((l) => Math.floor(l.percent / 10) * 10);
      for (const p of [10, 20, 30, 40, 50, 60, 70, 80, 90]) expect(tenths, `${label}\n${r.stderr}`).toContain(p);
      expect(lines.every((l, i) => i === 0 || l.at > lines[i - 1]!.at)).toBe(true);
      const total = lines[0]!.total;
      expect(lines.every((l) => l.total === total && l.at < total)).toBe(true);
      // The end line counts what was done: all of it.
      const counted = done.exec(r.stderr)?.[1] ?? '';
      expect(counted.split(' records, ').reduce((n, x) => n + Number(x), 0), r.stderr).toBe(total);
    }
    expect(/^prune read: (\d+) records, (\d+) tags/m.exec(r.stderr)?.slice(1).map(Number)).toEqual([60, before]);
    // The deletes come after the reads.
    expect(r.stderr.indexOf('prune delete: ')).toBeGreaterThan(r.stderr.search(/^prune read: \d+ records/m));
  }, 120_000);
});
