// A record's large lists of entries are read into packed stores (src/state/record-parse.ts), not objects: the
// value is still what JSON.parse gives, a list the store would not give back exactly is read as objects, the
// schema takes a packed list without copying it, and a build planned on a packed previous record writes the same
// record as one planned on its objects. `packedRecord.minEntries` is lowered so that small lists are packed, and
// `wholeParse.maxBytes` so that small records are read that way at all.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { packedRecord, parseRecordBytes } from '../src/state/record-parse.js';
import { wholeParse } from '../src/state/record-summary.js';
import { readBuildRecord } from '../src/state/records.js';
import type { BuildRecord, FileEntry } from '../src/types.js';
import { sampleGame } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number): FileEntry => ({ path: `a/ä "q" {${String(i).padStart(5, '0')}} \\ 😀.dat`, type: 'file', mode: 420, size: i, xxh64: (0xabc000 + i).toString(16).padStart(16, '0') });

function record(entries: object[]) {
  const n = entries.length;
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries, digest: 'sha256:dd', root: '/r', source: { kind: 'dir', path: 'app' } }],
    plan: {
      layers: [
        // The whole manifest (a tree in one layer), a large part of it, and a patch of a few entries.
        { tree: 'app', index: 0, entries, inputKey: 'k0', bytes: 1, platform: 'linux/amd64' },
        { tree: 'app', index: 1, entries: entries.slice(1), inputKey: 'k1', bytes: 1, platform: 'linux/amd64' },
        { tree: 'app', index: 2, entries: [entries[3], { path: '.wh.x', type: 'file', mode: 420, size: 0 }], inputKey: 'k2', bytes: 1, patch: true, platform: 'linux/amd64' },
      ],
    },
    layers: [],
    images: [],
  };
}

type Parsed = { manifests: { entries: FileEntry[] }[]; plan: { layers: { entries: FileEntry[] }[] } };

const saved = { entries: 0, whole: 0 };
beforeEach(() => {
  Object.assign(saved, { entries: packedRecord.minEntries, whole: wholeParse.maxBytes });
  packedRecord.minEntries = 100;
  wholeParse.maxBytes = 0;
});
afterEach(() => {
  packedRecord.minEntries = saved.entries;
  wholeParse.maxBytes = saved.whole;
});

describe('a record whose lists of entries are packed', () => {
  it('is what JSON.parse gives; a layer byte for byte its manifest is the same list; small lists are objects', () => {
    const text = JSON.stringify(record(Array.from({ length: 500 }, (_, i) => entry(i))));
    const parsed = parseRecordBytes(Buffer.from(text)) as Parsed;
    expect(JSON.stringify(parsed)).toBe(text);
    expect(parsed).toEqual(JSON.parse(text));
    const [l0, l1, l2] = parsed.plan.layers.map((l) => l.entries);
    expect(packedStoreOf(parsed.manifests[0]!.entries)).toBeDefined();
    expect(l0).toBe(parsed.manifests[0]!.entries);
    expect(packedStoreOf(l1!)).toBeDefined();
    expect(l1).not.toBe(l0);
    expect(packedStoreOf(l2!)).toBeUndefined();
  });

  it('reads a list the store would not give back exactly as objects, and as JSON.parse does', () => {
    const odd: [string, (e: Record<string, unknown>) => Record<string, unknown>][] = [
      ['keys in another order', ({ path: p, ...rest }) => ({ ...rest, path: p })],
      ['an extra key', (e) => ({ ...e, owner: 'root' })],
      ['a path from "/"', (e) => ({ ...e, path: `/${String(e.path)}` })],
      ['a mode over 16 bits', (e) => ({ ...e, mode: 0x1ffff })],
      ['a fractional mode', (e) => ({ ...e, mode: 420.5 })],
    ];
    for (const [what, change] of odd) {
      const entries: object[] = Array.from({ length: 300 }, (_, i) => entry(i));
      entries[250] = change(entries[250] as Record<string, unknown>);
      const text = JSON.stringify(record(entries));
      const parsed = parseRecordBytes(Buffer.from(text)) as Parsed;
      expect(packedStoreOf(parsed.manifests[0]!.entries), what).toBeUndefined();
      expect(JSON.stringify(parsed), what).toBe(text);
    }
  });

  it('passes the schema as it is, and a bad entry is named as in a list of objects', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'records'));
    const file = path.join(dir, 'records', 'build-last.json');
    const entries: object[] = Array.from({ length: 300 }, (_, i) => entry(i));
    await writeFile(file, JSON.stringify(record(entries)));
    const read = await readBuildRecord(file);
    expect(packedStoreOf(read.manifests[0]!.entries)).toBeDefined();
    expect(read.plan.layers[0]!.entries).toBe(read.manifests[0]!.entries);
    expect(JSON.stringify(read.manifests)).toBe(JSON.stringify(record(entries).manifests));

    entries[123] = { ...(entries[123] as FileEntry), size: 'big' };
    await writeFile(file, JSON.stringify(record(entries)));
    const packedError = await readBuildRecord(file).catch((e: Error) => e.message);
    packedRecord.minEntries = saved.entries;
    const objectsError = await readBuildRecord(file).catch((e: Error) => e.message);
    expect(packedError).toMatch(/manifests\[0\]\.entries\[123\]\.size/);
    expect(packedError).toBe(objectsError);
  });
});

describe('a build planned on a packed previous record', () => {
  it('writes the same records and decisions as one planned on its objects, two builds in a row', async () => {
    const { game, config } = await sampleGame();
    const state = path.join(game, '.gamelayer');
    const last = path.join(state, 'records', 'build-last.json');
    await build({ config });
    const first = path.join(path.dirname(game), 'first-state');
    await cp(state, first, { recursive: true });
    const edits = [
      async () => {
        await writeFile(path.join(game, 'app/config/server.cfg'), 'port=2\n');
        await writeFile(path.join(game, 'app/config/new.cfg'), 'new\n');
      },
      async () => {
        await rm(path.join(game, 'app/config/new.cfg'));
        await writeFile(path.join(game, 'app/config/server.cfg'), 'port=3\n');
      },
    ];
    const run = async (minEntries: number) => {
      await rm(state, { recursive: true, force: true });
      await cp(first, state, { recursive: true });
      packedRecord.minEntries = minEntries;
      const out: { record: string; decisions: string[] }[] = [];
      for (const edit of edits) {
        await edit();
        const r = await build({ config });
        out.push({ record: (await readFile(last, 'utf8')).replace(/"createdAt":"[^"]*"/, ''), decisions: r.summary.trees.map((t) => t.decision) });
      }
      return out;
    };
    const objects = await run(Number.MAX_SAFE_INTEGER);
    const packed = await run(1);
    expect(objects.map((o) => o.decisions)).toContainEqual(expect.arrayContaining(['patched']));
    expect(packed).toEqual(objects);
    // The previous record was read packed: every list of entries in it.
    packedRecord.minEntries = 1;
    const read = await readBuildRecord(last);
    expect(read.manifests.every((m) => packedStoreOf(m.entries))).toBe(true);
    expect((JSON.parse(await readFile(last, 'utf8')) as BuildRecord).manifests.length).toBe(read.manifests.length);
  });
});
