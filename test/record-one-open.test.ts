// A record file is opened once and checked there (a regular file, and its size then): every reader reads that
// descriptor, never the path again. The seam below puts another record at the path at the moment any second open
// of it happens (a rename racing the reader between its check and a reopen): the readers must give the first file's
// contents, and a push noted in a large record must splice into the bytes it found the places in.
import { closeSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readDeployRecord } from '../src/k8s/record-counts.js';
import { recordStream } from '../src/state/record-file.js';
import { readBuildSummary } from '../src/state/record-summary.js';
import { readRecordTotals } from '../src/state/record-totals.js';
import { markPushed, readRecord } from '../src/state/records.js';
import { fixtureRecord } from './k8s-fixture.js';
import { tempDir } from './support/tmp.js';

/** The path watched, and what replaces it at the second open after `arm`. */
const seam = vi.hoisted(() => ({ file: '', swapIn: '', opens: 0 }));
const watch = (p: unknown) => {
  if (!seam.file || String(p) !== seam.file) return;
  seam.opens++;
  if (seam.opens === 2) renameSync(seam.swapIn, seam.file);
};
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, openSync: (...a: Parameters<typeof real.openSync>) => (watch(a[0]), real.openSync(...a)) };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, open: (...a: Parameters<typeof real.open>) => (watch(a[0]), real.open(...a)) };
});

const text = (tags: string[]) => JSON.stringify({ kind: 'build', ...fixtureRecord({ tags, createdAt: `2026-01-0${tags.length}T00:00:00.000Z` }) });

/** A state folder with a record at `records/build-last.json`, another beside it, the seam armed: the next open is the check. */
async function armed(): Promise<string> {
  const state = await tempDir();
  const dir = path.join(state, 'records');
  await mkdir(dir);
  const file = path.join(dir, 'build-last.json');
  await writeFile(file, text(['last']));
  const swapIn = path.join(dir, 'other.json');
  // Another record, its members at other offsets.
  writeFileSync(swapIn, text(['other', 'swapped-in']));
  Object.assign(seam, { file, swapIn, opens: 0 });
  return file;
}

const saved = recordStream.minBytes;
afterEach(() => {
  recordStream.minBytes = saved;
  seam.file = '';
});

describe('a record swapped at its path after the check', () => {
  for (const [what, min] of [['small (read whole)', Number.MAX_SAFE_INTEGER], ['large (read a MiB at a time)', 0]] as const) {
    it(`${what}: the readers read the file they checked`, async () => {
      recordStream.minBytes = min;
      for (const read of [
        async (f: string) => (await readBuildSummary(f)).tags,
        async (f: string) => ((await readRecord(f)) as { tags: string[] }).tags,
        async (f: string) => (await readDeployRecord(f)).tags,
        async (f: string) => (await readRecordTotals(f)).tags,
      ]) {
        expect(await read(await armed())).toEqual(['last']);
        expect(seam.opens).toBe(1);
      }
    });
  }

  it('a push noted in a large record is spliced into the bytes its places were found in', async () => {
    recordStream.minBytes = 0;
    const file = await armed();
    const record = fixtureRecord({ tags: ['last'] });
    const entry = { repository: 'localhost:5200/g', images: [{ name: 'server', digest: record.images.at(-1)!.digest }], at: '2026-12-06T00:00:00.000Z' };
    expect(await markPushed(path.dirname(path.dirname(file)), record, entry)).toEqual([file]);
    const written = JSON.parse(await readFile(file, 'utf8')) as { tags: string[]; pushed: unknown[] };
    expect(written).toEqual({ ...JSON.parse(text(['last'])), pushed: [entry] });
  });
});

// The seam itself: a second open of the path does find the other record (so the tests above can fail).
it('the seam swaps the file at the second open', async () => {
  const file = await armed();
  closeSync(openSync(file, 'r'));
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(200);
  readSync(fd, buf, 0, 200, 0);
  closeSync(fd);
  expect(buf.toString()).toContain('swapped-in');
});
