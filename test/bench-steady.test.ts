// The steady bench's node figures: a node downloads the layers it lacks and unpacks every layer from the first
// one that differs in the stack (containerd keys unpacked layers by the chain below them).
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCost, steadyChunks } from '../bench/steady.js';
import { mergeChunkRuns, type SteadyData } from '../bench/steady-report.js';
import { tempDir } from './support/tmp.js';

const l = (digest: string, size: number) => ({ digest: `sha256:${digest}`, size });

describe('steady bench: node cost of moving from one image to the next', () => {
  it('downloads the layers it lacks, and unpacks from the first differing position up', () => {
    const held = [l('a', 100), l('b', 200), l('c', 300)];
    // b replaced in place, d added on top: c is held (no download) but sits above b (unpacked again).
    expect(nodeCost(held, [l('a', 100), l('x', 50), l('c', 300), l('d', 10)])).toEqual({ download: 60, unpack: 360 });
    // Only a new layer on top: download = unpack = its size.
    expect(nodeCost(held, [...held, l('d', 10)])).toEqual({ download: 10, unpack: 10 });
    // A layer dropped from the middle: nothing to download, everything above it unpacked again.
    expect(nodeCost(held, [l('a', 100), l('c', 300)])).toEqual({ download: 0, unpack: 300 });
    // A fresh node pulls and unpacks everything.
    expect(nodeCost([], held)).toEqual({ download: 600, unpack: 600 });
  });
});

describe('steady bench: which trees a month chunks', () => {
  it('what gamelayer init writes for the game by default (app media with a file of 64 MiB or more); --whole-files, --chunk', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'app-media/levels'), { recursive: true });
    await writeFile(path.join(dir, 'app-media/levels/a.pak'), '');
    await truncate(path.join(dir, 'app-media/levels/a.pak'), 64 * 1024 * 1024 - 1);
    expect(await steadyChunks(dir, {})).toEqual([]);
    await truncate(path.join(dir, 'app-media/levels/a.pak'), 64 * 1024 * 1024); // sparse: nothing written
    expect(await steadyChunks(dir, {})).toEqual(['app-media']);
    expect(await steadyChunks(dir, { wholeFiles: true })).toEqual([]);
    expect(await steadyChunks(dir, { chunk: ['app-media', 'app'] })).toEqual(['app-media', 'app']);
    // Where init keeps whole files (a path a chunked tree reserves), so does the month.
    await mkdir(path.join(dir, 'app-media/.gamelayer-chunks'));
    expect(await steadyChunks(dir, {})).toEqual([]);
  });

  // The month chunks at --chunk-min: deciding at init's 64 MiB ran a game whose biggest pak is 40 MiB as whole files
  // under --chunk-min 32MiB.
  it('without --chunk, decides at the --chunk-min the month chunks at', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'app-media'), { recursive: true });
    await writeFile(path.join(dir, 'app-media/a.pak'), '');
    await truncate(path.join(dir, 'app-media/a.pak'), 40 * 1024 * 1024);
    expect(await steadyChunks(dir, { chunkMin: 32 * 1024 * 1024 })).toEqual(['app-media']);
    expect(await steadyChunks(dir, { chunkMin: 64 * 1024 * 1024 })).toEqual([]);
    expect(await steadyChunks(dir, { chunkMin: 32 * 1024 * 1024, wholeFiles: true })).toEqual([]);
  });
});

// steady-chunks.json keyed its runs without --chunk-min: a run at 16 MiB and one at 64 MiB on the same game replaced
// each other (the 16 MiB month of 2026-12-05 was lost so).
describe('steady bench: steady-chunks.json keeps a row per setting', () => {
  const MiB = 1024 * 1024;
  const run = (options: Partial<SteadyData['options']>, date: string): SteadyData => ({
    date,
    machine: 'test',
    options: { size: 3.1e9, updates: 30, seed: 'steady', scenario: 'daily', chunk: ['app-media'], chunkMin: 64 * MiB, chunkAvg: 256 * 1024, ...options },
    updates: [],
    totalSeconds: 1,
  });
  const dates = (all: Record<string, SteadyData>) => Object.values(all).map((v) => v.date).sort();

  it('runs that differ in chunkMin, chunkAvg, scenario, size, updates or seed keep their own rows; the same settings replace', () => {
    let all = mergeChunkRuns({}, run({ chunkMin: 16 * MiB }, 'a'));
    for (const [o, date] of [
      [{}, 'b'],
      [{ chunkAvg: MiB }, 'c'],
      [{ scenario: 'insert' as const }, 'd'],
      [{ size: 4e8 }, 'e'],
      [{ updates: 8 }, 'f'],
      [{ seed: 'other' }, 'g'],
      [{ chunk: undefined, chunkAvg: undefined, scenario: 'insert' as const, chunkMin: 8 * MiB }, 'h'],
      [{ chunk: undefined, chunkAvg: undefined, scenario: 'insert' as const, chunkMin: 64 * MiB }, 'i'],
    ] as const) all = mergeChunkRuns(all, run(o, date));
    expect(dates(all)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
    expect(Object.keys(all)).toContain('daily, app-media chunked (files ≥ 16.0 MiB, ~256 KiB chunks), 3.1 GB game, 30 updates');
    // A rerun of a setting replaces its row only.
    all = mergeChunkRuns(all, run({ chunkMin: 16 * MiB }, 'j'));
    expect(dates(all)).toEqual(['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    // The daily mix unchunked does not read --chunk-min: one whole-file row whatever it was.
    const whole = { chunk: undefined, chunkAvg: undefined };
    expect(dates(mergeChunkRuns(mergeChunkRuns({}, run({ ...whole, chunkMin: 8 * MiB }, 'x')), run(whole, 'y')))).toEqual(['y']);
  });

  it('rows of the file as written before are read and keyed anew; one without chunkMin / chunkAvg counts as the defaults it ran at', () => {
    const before: Record<string, SteadyData> = {
      'daily, app-media chunked (~256 KiB), 3.1 GB game': run({ chunkMin: undefined, chunkAvg: undefined }, 'old'),
      'daily, app-media chunked (~1.00 MiB), 3.1 GB game': run({ chunkMin: 16 * MiB, chunkAvg: MiB }, 'old-1m'),
    };
    expect(dates(mergeChunkRuns(before))).toEqual(['old', 'old-1m']);
    expect(dates(mergeChunkRuns(before, run({ chunkMin: 16 * MiB }, 'new-16')))).toEqual(['new-16', 'old', 'old-1m']);
    expect(dates(mergeChunkRuns(before, run({}, 'new-64')))).toEqual(['new-64', 'old-1m']);
  });

  // The README's rows (and steady-chunks.json) came in the keys' text order: "files ≥ 8.00 MiB" after "files ≥ 64.0 MiB",
  // "3.1 GB game" before "400 MB game".
  it('keeps the rows in the order of their settings, sizes by number', () => {
    const all = [
      run({ chunk: undefined, scenario: 'insert' }, 'whole-insert'),
      run({ chunkMin: 64 * MiB }, 'min-64'),
      run({ chunk: undefined }, 'whole'),
      run({ chunkMin: 8 * MiB }, 'min-8'),
      run({ chunkMin: 16 * MiB, size: 4e8 }, 'min-16-small'),
      run({ chunkMin: 16 * MiB }, 'min-16'),
      run({ chunkMin: 16 * MiB, chunkAvg: MiB }, 'min-16-avg-1m'),
      run({ chunkMin: 8 * MiB, scenario: 'insert' }, 'min-8-insert'),
    ].reduce((file, r) => mergeChunkRuns(file, r), {} as Record<string, SteadyData>);
    expect(Object.values(all).map((v) => v.date)).toEqual(['min-8', 'min-16-small', 'min-16', 'min-16-avg-1m', 'min-64', 'whole', 'min-8-insert', 'whole-insert']);
  });
});
