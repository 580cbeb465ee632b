// CPU of each reader of a large build record, in a fresh process each, two checkouts interleaved: the summary's
// totals (`inspect`), the deploy counts (`k8s`), the top-level places (a push's note) and the streamed parse (a
// no-op build's previous record). Each checkout's own sources, run through tsx.
// Usage: tsx bench/record-readers-cpu.ts RECORD BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS=3]
// Prints a line per run: checkout, then CPU ms (user + system) of each reader, in that order, in one process.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [record, before, after, rounds = '3', child] = process.argv.slice(2);
if (!record || !before || !after) throw new Error('usage: record-readers-cpu.ts RECORD BEFORE AFTER [ROUNDS]');

async function cpu(f: () => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / 1000);
}

if (child === 'child') {
  const root = before;
  // readRecordTotals moved to record-totals.ts (it streams a large record); an older checkout has it in record-summary.ts.
  type Totals = { readRecordTotals: (file: string) => Promise<unknown> };
  const rs = (await import(`${root}/src/state/record-totals.ts`).catch(() => import(`${root}/src/state/record-summary.ts`))) as Totals;
  const rc = (await import(`${root}/src/k8s/record-counts.ts`)) as typeof import('../src/k8s/record-counts.js');
  const rm = (await import(`${root}/src/state/record-members.ts`)) as typeof import('../src/state/record-members.js');
  const st = (await import(`${root}/src/state/record-stream.ts`)) as typeof import('../src/state/record-stream.js');
  // Since stop 38 these two read a descriptor the caller opened; an older checkout's open the path themselves.
  const fdOrPath = <R>(f: (...a: never[]) => R, ...rest: unknown[]): R => {
    const call = f as (first: string | number, ...r: unknown[]) => R;
    if (/openSync\(file/.test(String(f))) return call(record, ...rest);
    const fd = openSync(record, 'r');
    try {
      return call(fd, ...rest);
    } finally {
      closeSync(fd);
    }
  };
  const size = statSync(record).size;
  const out = [
    `totals ${await cpu(() => rs.readRecordTotals(record))}`,
    `deploy ${await cpu(() => rc.readDeployRecord(record))}`,
    `places ${await cpu(() => fdOrPath(rm.topLevelPlaces, size, record))}`,
    `stream ${await cpu(() => fdOrPath(st.parseRecordFile, 131_072))}`,
  ];
  console.log(out.join('  '));
} else {
  const self = fileURLToPath(import.meta.url);
  const tsx = path.resolve(path.dirname(self), '../node_modules/tsx/dist/esm/index.mjs');
  console.log(`load before: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (let r = 0; r < Number(rounds); r++) {
    for (const root of [before, after]) {
      const line = execFileSync(process.execPath, ['--import', tsx, self, record, path.resolve(root), '-', '-', 'child'], { encoding: 'utf8' });
      console.log(`${path.basename(root).padEnd(8)} ${line.trim()}`);
    }
  }
  console.log(`load after: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
