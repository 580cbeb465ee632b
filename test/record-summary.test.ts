// A build record's summary (state/record-summary.ts): the record without `manifests` and `plan`, read without
// parsing them. The text it parses is the same whatever the number of entries (the bounded part), and it stays
// exact around strings that hold brackets, quotes, escapes and multi-byte characters.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { markPushed } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { keptState, readKeptState } from '../src/inventory/gc-state.js';
import type { GameConfig } from '../src/config/load.js';
import { pullCost } from '../src/diff/pull-cost.js';
import { lastBuildForPullCost } from '../src/diff/states.js';
import { forEachElement, manifestHeads, objectMembers, readBuildSummary, topLevelMembers, totalsOf, wholeParse, withoutKeys } from '../src/state/record-summary.js';
import { readRecordTotals } from '../src/state/record-totals.js';
import { recordStream } from '../src/state/record-file.js';
import { streamRead } from '../src/state/record-stream.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number) => ({ path: `levels/ä "odd" {name} [${i}] \\ \u2603.dat`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' });

function record(entries: number) {
  const list = Array.from({ length: entries }, (_, i) => entry(i));
  return {
    schemaVersion: 1,
    game: 'g',
    version: '1.0 "quoted" }',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1', 'v1-app'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries: list, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries: list, inputKey: 'k', bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey: 'k', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: 'sha256:bb', mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{ digest: 'sha256:aa', size: 3 }] }],
    kind: 'build',
  };
}

describe('build record summary', () => {
  it('is the record without manifests and plan, the same text for 10 entries or 20,000', () => {
    const small = withoutKeys(Buffer.from(JSON.stringify(record(10))));
    const big = withoutKeys(Buffer.from(JSON.stringify(record(20_000))));
    expect(big).toBe(small);
    const { manifests: _m, plan: _p, ...rest } = record(10);
    expect(JSON.parse(small)).toEqual(rest);
    // Spaced out as a person might write it, keys in another order.
    const spaced = JSON.stringify({ plan: record(3).plan, ...rest, manifests: record(3).manifests }, null, 2);
    expect(JSON.parse(withoutKeys(Buffer.from(spaced)))).toEqual(rest);
  });

  it('refuses a truncated record, one without its entries, and a scan record', async () => {
    const dir = await tempDir();
    const text = JSON.stringify(record(100));
    const cut = path.join(dir, 'cut.json');
    await writeFile(cut, text.slice(0, text.length - 300));
    await expect(readBuildSummary(cut)).rejects.toMatchObject({ code: 'record.corrupt' });
    const { plan: _p, ...noPlan } = record(1);
    const nop = path.join(dir, 'noplan.json');
    await writeFile(nop, JSON.stringify(noPlan));
    await expect(readBuildSummary(nop)).rejects.toThrow(/plan: missing/);
    const scan = path.join(dir, 'scan.json');
    await writeFile(scan, JSON.stringify({ kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'x', manifests: [], plan: {} }));
    await expect(readBuildSummary(scan)).rejects.toMatchObject({ code: 'record.no-build' });
    await expect(readBuildSummary(path.join(dir, 'none.json'))).rejects.toMatchObject({ code: 'record.no-build' });
  });
});

describe('stepping over a record\'s containers again', () => {
  // The ends of the containers a skip stepped over are kept per buffer (skipValue): every later step through the
  // same buffer must find the spans a fresh buffer gives, at every depth, around strings with brackets and escapes.
  it('finds the same members and elements as a fresh copy of the bytes, at every level', () => {
    const r = record(300) as ReturnType<typeof record> & { plan: { layers: unknown[] } };
    r.plan.layers.push({ tree: 'app', index: 1, entries: [entry(1), entry(2)], nested: [[['a]"\\', '}'], []], { x: [{ y: ']' }] }], inputKey: 'k2', bytes: 1 });
    const bytes = Buffer.from(JSON.stringify(r));
    // Every object's members and every list's elements, depth first, as [start, end] spans of `b`.
    const outline = (b: Buffer, fresh: boolean): number[][] => {
      const out: number[][] = [];
      const at = (i: number) => (fresh ? Buffer.from(b) : b);
      const visit = (i: number, end: number) => {
        if (b[i] === 0x7b) {
          for (const m of objectMembers(at(i), i).members) {
            out.push([m.valueStart, m.valueEnd]);
            visit(m.valueStart, m.valueEnd);
          }
        } else if (b[i] === 0x5b) {
          const spans: number[][] = [];
          forEachElement(at(i), i, (s, e) => spans.push([s, e]));
          for (const [s, e] of spans) {
            out.push([s!, e!]);
            visit(s!, e!);
          }
        }
        expect(end).toBeGreaterThan(i);
      };
      for (const m of topLevelMembers(b).members) {
        out.push([m.valueStart, m.valueEnd]);
        visit(m.valueStart, m.valueEnd);
      }
      return out;
    };
    const kept = outline(bytes, false);
    const fresh = outline(bytes, true);
    expect(kept.length).toBeGreaterThan(3000);
    expect(kept).toEqual(fresh);
    // Each span is a value JSON.parse reads on its own.
    for (const [s, e] of kept.slice(0, 50)) expect(() => JSON.parse(bytes.toString('utf8', s, e))).not.toThrow();
  });
});

describe('a small record\'s summary (parsed whole, below wholeParse.maxBytes)', () => {
  it('is the walked summary, and refuses what it refuses with the same message', async () => {
    const dir = await tempDir();
    const good = record(100);
    const { plan: _p, ...noPlan } = good;
    const texts = [
      JSON.stringify(good),
      JSON.stringify({ ...good, pushed: [{ repository: 'r/g', images: [{ name: 'server', digest: 'sha256:bb' }], at: 'x' }] }),
      JSON.stringify(good).slice(0, -300),
      JSON.stringify(noPlan),
      JSON.stringify({ ...good, manifests: {} }),
      JSON.stringify({ ...good, plan: [] }),
      JSON.stringify({ ...good, plan: null }),
      JSON.stringify({ ...good, schemaVersion: 2 }),
      JSON.stringify({ kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'x', manifests: [], plan: {} }),
      '[1,2]',
      '"record"',
      '{"manifests":[],"plan":{}} x',
    ];
    const saved = wholeParse.maxBytes;
    for (const [i, text] of texts.entries()) {
      const file = path.join(dir, `r${i}.json`);
      await writeFile(file, text);
      expect(text.length).toBeLessThan(saved);
      const whole = await readBuildSummary(file).catch((e: Error) => e.message);
      wholeParse.maxBytes = 0;
      try {
        expect(whole).toEqual(await readBuildSummary(file).catch((e: Error) => e.message));
      } finally {
        wholeParse.maxBytes = saved;
      }
    }
  });
});

describe('markPushed on a big record', () => {
  it('splices the push into both files and parses no entries: the longest text parsed is the summary', async () => {
    const stateDir = await tempDir();
    const big = record(20_000);
    const text = JSON.stringify(big);
    await mkdir(path.join(stateDir, 'records'));
    for (const name of ['build-v1.json', 'build-last.json']) await writeFile(path.join(stateDir, 'records', name), text);
    const entry = { repository: 'r.example/g', images: [{ name: 'server', digest: 'sha256:bb' }], at: '2026-12-05T01:00:00.000Z' };
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const updated = await markPushed(stateDir, big as unknown as BuildRecord, entry);
      expect(updated.map((f) => path.basename(f))).toEqual(['build-v1.json', 'build-last.json']);
      const longest = Math.max(...parse.mock.calls.map((c) => String(c[0]).length));
      expect(longest).toBeLessThan(text.length / 100);
    } finally {
      parse.mockRestore();
    }
    for (const name of ['build-v1.json', 'build-last.json']) {
      expect(JSON.parse(await readFile(path.join(stateDir, 'records', name), 'utf8'))).toEqual({ ...big, pushed: [entry] });
    }
    // Pushed again with the same images: nothing written; to another repository: a second entry.
    const again = { ...entry, repository: 'r2.example/g' };
    await markPushed(stateDir, big as unknown as BuildRecord, again);
    expect(JSON.parse(await readFile(path.join(stateDir, 'records', 'build-last.json'), 'utf8')).pushed).toEqual([entry, again]);
  });
});

describe('what gc keeps of a build', () => {
  it('reads the chunk lists from the manifests without their entries; parses entries only for an archive tree', async () => {
    const dir = await tempDir();
    const chunked = record(20_000);
    const [m] = chunked.manifests;
    Object.assign(m!, { chunks: { minFileSize: 1, avgChunkSize: 262_144 }, recipes: [{ path: 'big.pak', size: 123_456_789, xxh64: 'fedcba9876543210', sha256: '0'.repeat(64), chunks: '' }] });
    const text = JSON.stringify(chunked);
    const file = path.join(dir, 'build-v1.json');
    await writeFile(file, text);
    const { entries: _e, ...head } = m!;
    expect(manifestHeads(file, Buffer.from(text))).toEqual([head]);
    const parse = vi.spyOn(JSON, 'parse');
    let kept;
    try {
      kept = await readKeptState(file);
      expect(Math.max(...parse.mock.calls.map((c) => String(c[0]).length))).toBeLessThan(text.length / 100);
    } finally {
      parse.mockRestore();
    }
    expect(kept).toEqual(keptState(chunked as unknown as BuildRecord));
    expect(kept.recipes.size).toBe(1);

    // An archive tree: its members are in its entries, so the record is read whole.
    const archive = record(5);
    archive.manifests[0]!.source = { kind: 'archive', path: 'app.tar', compression: 'none' } as never;
    await writeFile(file, JSON.stringify(archive));
    const members = await readKeptState(file);
    expect(members.archiveMembers).toEqual(new Set(['0123456789abcdef']));
  });
});

describe('record totals for inspect', () => {
  it('counts the entries in the bytes, one parsed at a time: the totals of the record read whole', async () => {
    const dir = await tempDir();
    const big = record(20_000);
    const text = JSON.stringify(big);
    const file = path.join(dir, 'build-v1.json');
    await writeFile(file, text);
    const parse = vi.spyOn(JSON, 'parse');
    let totals;
    try {
      totals = await readRecordTotals(file);
      expect(Math.max(...parse.mock.calls.map((c) => String(c[0]).length))).toBeLessThan(text.length / 100);
    } finally {
      parse.mockRestore();
    }
    const { kind: _kind, ...whole } = big; // the summary's schema keeps only the record's own fields
    expect(totals).toEqual(totalsOf(whole as unknown as BuildRecord));
    expect(totals.trees[0]).toMatchObject({ entries: 20_000, files: 20_000, bytes: (19_999 * 20_000) / 2 });
  });
});

describe('the last build for diff --against\'s pull cost', () => {
  it('is read without its entries unless a tree is chunked, and costs the same', async () => {
    const stateDir = await tempDir();
    await mkdir(path.join(stateDir, 'records'));
    const config = { stateDir, store: path.join(stateDir, 'oci') } as GameConfig;
    expect(await lastBuildForPullCost(config)).toBeUndefined();
    const newer = record(20_000);
    Object.assign(newer.images[0]!, { platform: 'linux/amd64' });
    newer.images[0]!.layers.push({ digest: 'sha256:ee', size: 7 });
    const text = JSON.stringify(newer);
    await writeFile(path.join(stateDir, 'records', 'build-last.json'), text);
    const older = { images: [{ ...newer.images[0]!, layers: [{ digest: 'sha256:aa', size: 3 }] }] } as unknown as BuildRecord;
    const parse = vi.spyOn(JSON, 'parse');
    let side;
    try {
      side = (await lastBuildForPullCost(config))!;
      expect(Math.max(...parse.mock.calls.map((c) => String(c[0]).length))).toBeLessThan(text.length / 100);
    } finally {
      parse.mockRestore();
    }
    expect(side.manifests[0]!.entries).toEqual([]);
    const whole = pullCost(older, newer as unknown as BuildRecord);
    expect(pullCost(older, side)).toEqual(whole);
    expect(whole.images[0]).toMatchObject({ newBytes: 7, newLayers: 1 });

    // A chunked tree: its chunks are in its entries, so the record is read whole.
    Object.assign(newer.manifests[0]!, { chunks: { minFileSize: 1, avgChunkSize: 262_144 } });
    await writeFile(path.join(stateDir, 'records', 'build-last.json'), JSON.stringify(newer));
    expect((await lastBuildForPullCost(config))!.manifests[0]!.entries).toHaveLength(20_000);
  });
});

/** What `f` gives (or its error's code and message) and the largest Buffer.allocUnsafe it made. */
async function withLargest<T>(f: () => Promise<T>): Promise<{ value: T | string; largest: number }> {
  const alloc = vi.spyOn(Buffer, 'allocUnsafe');
  try {
    const value = await f().catch((e: Error & { code?: string }) => `${e.code}: ${e.message}`);
    return { value, largest: Math.max(0, ...alloc.mock.calls.map((c) => c[0])) };
  } finally {
    alloc.mockRestore();
  }
}

describe('a large record (from recordStream.minBytes on) read for inspect without its bytes held', () => {
  const saved = { min: recordStream.minBytes, ...streamRead };
  const streamed = async <T>(f: () => Promise<T>) => {
    recordStream.minBytes = 0;
    Object.assign(streamRead, { batch: 7, chunk: 4096 });
    try {
      return await withLargest(f);
    } finally {
      recordStream.minBytes = saved.min;
      Object.assign(streamRead, { batch: saved.batch, chunk: saved.chunk });
    }
  };

  it('gives the summary and totals of the record held whole, reading it a piece at a time', async () => {
    const dir = await tempDir();
    const big = record(20_000);
    // A plan layer with entries of its own (not its manifest's), an empty manifest, and entries that are no files.
    big.plan.layers.push({ tree: 'app', index: 1, entries: [{ ...entry(7), type: 'dir' }, { path: 'x', type: 'symlink', mode: 511, size: 2 }] as never, inputKey: 'k1', bytes: 2 });
    big.manifests.push({ tree: 'engine', entries: [], digest: 'sha256:ee', root: '/opt/local/engine', source: { kind: 'dir', path: 'engine' } });
    const text = JSON.stringify(big, null, 1);
    const file = path.join(dir, 'build-v1.json');
    await writeFile(file, text);
    const held = await withLargest(() => readRecordTotals(file));
    const heldSummary = await withLargest(() => readBuildSummary(file));
    expect(held.largest).toBeGreaterThanOrEqual(text.length);
    const totals = await streamed(() => readRecordTotals(file));
    const summary = await streamed(() => readBuildSummary(file));
    expect(totals.value).toEqual(held.value);
    expect(summary.value).toEqual(heldSummary.value);
    // No piece of it near its size: it was read a chunk (at most a MiB) and a batch of entries at a time.
    expect(text.length).toBeGreaterThan(6 << 20);
    expect(totals.largest).toBeLessThan(text.length / 6);
    expect(summary.largest).toBeLessThan(text.length / 6);
    expect((totals.value as { planLayers: { files: number; entries: number }[] }).planLayers[1]).toMatchObject({ entries: 2, files: 0, firstPath: entry(7).path });
  });

  it('refuses what the whole reader refuses, with the same code and message', async () => {
    const dir = await tempDir();
    const good = record(50);
    const { plan: _p, ...noPlan } = good;
    const text = JSON.stringify(good);
    const nullEntry = JSON.stringify({ ...good, manifests: [{ ...good.manifests[0], entries: [...good.manifests[0]!.entries.slice(0, 9), null] }] });
    const numberEntry = JSON.stringify({ ...good, plan: { layers: [{ ...good.plan.layers[0], entries: [3] }] } });
    const texts = [
      text.slice(0, -300),
      text.slice(0, text.indexOf('"entries"') + 30),
      JSON.stringify(noPlan),
      JSON.stringify({ ...good, manifests: {} }),
      JSON.stringify({ ...good, plan: [] }),
      JSON.stringify({ ...good, schemaVersion: 2 }),
      JSON.stringify({ ...good, manifests: [{ ...good.manifests[0], entries: 'none' }] }),
      JSON.stringify({ ...good, plan: { layers: [{ ...good.plan.layers[0], entries: 3 }] } }),
      JSON.stringify({ ...good, plan: { layers: [{ ...good.plan.layers[0], index: 'x' }] } }),
      JSON.stringify({ ...good, plan: {} }),
      JSON.stringify({ kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'x', manifests: [], plan: {} }),
      text.replace('"tags"', '"manifests":[],"tags"'), // a key twice: read the plain way
      nullEntry,
      numberEntry,
      '[1,2]',
      '{"manifests":[],"plan":{}} x',
    ];
    for (const [i, t] of texts.entries()) {
      const file = path.join(dir, `r${i}.json`);
      await writeFile(file, t);
      for (const read of [readRecordTotals, readBuildSummary]) {
        const whole = await withLargest(() => read(file));
        expect((await streamed(() => read(file))).value, `${read.name} of text ${i}`).toEqual(whole.value);
      }
    }
    // An element that is no entry is named as readRecord names it, not a TypeError (`error[internal]` before).
    expect((await withLargest(() => readRecordTotals(path.join(dir, `r${texts.indexOf(nullEntry)}.json`)))).value).toMatch(/^record.corrupt: .*: manifests\[0\]\.entries\[9\]: expected a map$/);
    expect((await streamed(() => readRecordTotals(path.join(dir, `r${texts.indexOf(numberEntry)}.json`)))).value).toMatch(/^record.corrupt: .*: plan\.layers\[0\]\.entries\[0\]: expected a map$/);
    const none = path.join(dir, 'none.json');
    expect((await streamed(() => readRecordTotals(none))).value).toMatch(/^record.no-build: /);
  });
});

describe('totals of a record read whole from a registry (inspect REF)', () => {
  it('are the same for its lists packed (a large record) as for objects, symlinks and folders counted', async () => {
    const { packedRecord, parseRecordBytes } = await import('../src/state/record-parse.js');
    const { packedStoreOf } = await import('../src/entries/packed-list.js');
    const r = record(300);
    const mixed = [...r.manifests[0]!.entries, { path: 'd', type: 'dir', mode: 493, size: 0 }, { path: 'l', type: 'symlink', mode: 511, size: 5, linkTarget: 'x/y/z' }];
    r.manifests[0]!.entries = mixed as never;
    r.plan.layers[0]!.entries = mixed as never;
    const text = Buffer.from(JSON.stringify(r));
    const saved = { entries: packedRecord.minEntries, whole: wholeParse.maxBytes };
    let packed;
    try {
      Object.assign(packedRecord, { minEntries: 10 });
      wholeParse.maxBytes = 0;
      packed = parseRecordBytes(text) as BuildRecord;
    } finally {
      packedRecord.minEntries = saved.entries;
      wholeParse.maxBytes = saved.whole;
    }
    expect(packedStoreOf(packed.manifests[0]!.entries)).toBeDefined();
    const objects = JSON.parse(text.toString('utf8')) as BuildRecord;
    expect(totalsOf(packed)).toEqual(totalsOf(objects));
    expect(totalsOf(packed).trees[0]).toMatchObject({ entries: 302, files: 300, bytes: (299 * 300) / 2 + 5 });
  });
});
