// A large record read from its file a piece at a time (src/state/record-stream.ts) is what JSON.parse gives: its
// lists of entries packed (or objects when small or not packable), a layer byte for byte its manifest that same
// list, and invalid JSON a SyntaxError. Tiny reads and batches make every list and string cross a read's boundary.
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { parseRecordFile, streamRead } from '../src/state/record-stream.js';
import { readRecord, recordStream } from '../src/state/records.js';
import type { FileEntry } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number): FileEntry => ({ path: `a/ä "q" [{${String(i).padStart(4, '0')}}] \\ 😀,.dat`, type: 'file', mode: 420, size: i, xxh64: (0xabc000 + i).toString(16).padStart(16, '0') });

function record(n: number, extra: Record<string, unknown> = {}) {
  const entries: object[] = Array.from({ length: n }, (_, i) => entry(i));
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g "]}[{',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [
      { tree: 'app', entries, digest: 'sha256:dd', root: '/r', source: { kind: 'dir', path: 'app' } },
      { entries: [], tree: 'engine', digest: 'sha256:ee', root: '/e', source: { kind: 'dir', path: 'e' } },
    ],
    plan: {
      layers: [
        { tree: 'app', index: 0, entries, inputKey: 'k0', bytes: 1, platform: 'linux/amd64' },
        { tree: 'app', index: 1, entries: entries.slice(2), inputKey: 'k1', bytes: 1 },
        { tree: 'app', index: 2, entries: [entries[3], { path: 'x', type: 'symlink', mode: 511, size: 0, linkTarget: '../"]' }], inputKey: 'k2', bytes: 1, patch: true },
      ],
    },
    layers: [],
    images: [{ name: 'server', digest: 'sha256:bb', mediaType: 'm', entries: [1, 2] }],
    ...extra,
  };
}

let dir: string;
const saved = { ...streamRead };
beforeEach(async () => {
  dir = await tempDir();
  Object.assign(streamRead, { batch: 3, chunk: 7 });
});
afterEach(() => {
  Object.assign(streamRead, saved);
});

async function parsed(text: string, minPacked = 10): Promise<unknown> {
  const file = path.join(dir, 'r.json');
  await writeFile(file, text);
  const fd = openSync(file, 'r');
  try {
    return parseRecordFile(fd, minPacked);
  } finally {
    closeSync(fd);
  }
}

type Lists = { manifests: { entries: FileEntry[] }[]; plan: { layers: { entries: FileEntry[] }[] } };

describe('a record read from its file a piece at a time', () => {
  it('is what JSON.parse gives, compact or indented, with its large lists packed', async () => {
    for (const n of [0, 1, 3, 10, 11, 37]) {
      const compact = JSON.stringify(record(n));
      for (const text of [compact, JSON.stringify(record(n), null, 2), ` \n${JSON.stringify(record(n), null, '\t')}\n`]) {
        const v = (await parsed(text)) as Lists;
        expect(JSON.stringify(v), `${n}`).toBe(JSON.stringify(JSON.parse(text)));
        expect(v).toEqual(JSON.parse(text));
        const m = v.manifests[0]!.entries;
        expect(packedStoreOf(m) !== undefined, `${n}`).toBe(n >= 10);
        // Indented, the layer's list is other bytes than the manifest's (deeper): equal, not the same list.
        if (n >= 10 && text === compact) expect(v.plan.layers[0]!.entries).toBe(m);
        if (n >= 12) expect(packedStoreOf(v.plan.layers[1]!.entries)).toBeDefined();
        expect(packedStoreOf(v.plan.layers[2]!.entries)).toBeUndefined();
      }
    }
  });

  it('reads a list the store would not give back exactly as objects', async () => {
    const r = record(20);
    const odd = r.manifests[0]!.entries as Record<string, unknown>[];
    odd[15] = { type: 'file', path: 'z', mode: 420, size: 1 };
    const text = JSON.stringify(r);
    const v = (await parsed(text)) as Lists;
    expect(packedStoreOf(v.manifests[0]!.entries)).toBeUndefined();
    expect(JSON.stringify(v)).toBe(text);
  });

  it('refuses what JSON.parse refuses', async () => {
    const good = JSON.stringify(record(12));
    const bad = [
      good.slice(0, -1),
      good.slice(0, good.length >> 1),
      good.replace('"entries":[{', '"entries":[,{'),
      good.replace('}],"digest":"sha256:dd"', '},],"digest":"sha256:dd"'),
      good.replace('},{"path"', '},,{"path"'),
      good.replace('},{"path"', '} x {"path"'),
      good.replace('"game"', 'game'),
      `${good}x`,
    ];
    for (const text of bad) {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      await expect(parsed(text)).rejects.toThrow(SyntaxError);
    }
  });

  it('leaves a record with a key twice where lists are looked for to the plain reader', async () => {
    const text = JSON.stringify(record(12));
    expect(await parsed(text.replace('"tree":"app","entries"', '"tree":"app","tree":"app","entries"'))).toBeUndefined();
    expect(await parsed(text.replace('"kind":"build"', '"plan":{},"kind":"build"'))).toBeUndefined();
  });

  it('is how readRecord reads a record from recordStream.minBytes, the same record as the plain reader', async () => {
    const file = path.join(dir, 'build-last.json');
    const text = JSON.stringify(record(40));
    await writeFile(file, text);
    const savedMin = recordStream.minBytes;
    try {
      recordStream.minBytes = 0;
      const streamed = await readRecord(file);
      recordStream.minBytes = Number.MAX_SAFE_INTEGER;
      const plain = await readRecord(file);
      expect(JSON.stringify(streamed)).toBe(JSON.stringify(plain));
      await writeFile(file, text.slice(0, -3));
      recordStream.minBytes = 0;
      await expect(readRecord(file)).rejects.toThrow(/not valid JSON/);
      await expect(readRecord(path.join(dir, 'none.json'))).rejects.toThrow(/no such record/);
    } finally {
      recordStream.minBytes = savedMin;
    }
  });
});
