// A plan layer of a tree whose manifest is packed (a removal's patch of whiteouts on a large tree) is packed from
// `packedRecord.minLayerEntries` on, not only from `minEntries` (stop 42: 100k whiteouts were 13 MiB of objects
// beside the stores). Read either way (the record's bytes, or its file a piece at a time), the value is still what
// JSON.parse gives, byte for byte once written again; a layer of a tree whose manifest is objects stays objects.
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { packedRecord, parseRecordBytes } from '../src/state/record-parse.js';
import { parseRecordFile, streamRead } from '../src/state/record-stream.js';
import { wholeParse } from '../src/state/record-summary.js';
import type { FileEntry } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const EMPTY = 'ef46db3751d8e999';
const file = (p: string): FileEntry => ({ path: p, type: 'file', mode: 420, size: 0, xxh64: EMPTY });
const dir = (p: string): FileEntry => ({ path: p, type: 'dir', mode: 493, size: 0 });

/** A tree of `n` files in d/, then a patch that whites out every fourth one (and one odd entry: a link). */
function record(n: number, patchTree = 'app-media') {
  const files = [dir('d'), ...Array.from({ length: n }, (_, i) => file(`d/f${String(i).padStart(3, '0')}`))];
  const whiteouts = [dir('d'), ...files.slice(1).filter((_e, i) => i % 4 === 0).map((e) => file(e.path.replace('d/', 'd/.wh.')))];
  whiteouts.push({ path: 'd/ln "q"', type: 'symlink', mode: 511, size: 0, linkTarget: '../ä' });
  whiteouts.sort((a, b) => (Buffer.from(a.path) < Buffer.from(b.path) ? -1 : 1));
  const live = files.filter((_e, i) => i === 0 || (i - 1) % 4 !== 0);
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g',
    createdAt: '2026-12-06T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [
      { tree: 'app-media', entries: live, digest: 'sha256:aa', root: '/m', source: { kind: 'dir', path: 'm' } },
      { tree: 'app', entries: files.slice(0, 3), digest: 'sha256:bb', root: '/a', source: { kind: 'dir', path: 'a' } },
    ],
    plan: {
      layers: [
        { tree: 'app-media', index: 0, entries: files, inputKey: 'k0', bytes: 0, platform: 'linux/amd64' },
        { tree: patchTree, index: 1, entries: whiteouts, inputKey: 'k1', bytes: 0, platform: 'linux/amd64', patch: true },
        { tree: 'app', index: 0, entries: files.slice(0, 3), inputKey: 'k2', bytes: 0, platform: 'linux/amd64' },
      ],
    },
    layers: [],
    images: [],
  };
}

type Lists = { manifests: { entries: FileEntry[] }[]; plan: { layers: { entries: FileEntry[] }[] } };

let tmp: string;
const saved = { ...packedRecord, whole: wholeParse.maxBytes, stream: { ...streamRead } };
beforeEach(async () => {
  tmp = await tempDir();
  Object.assign(packedRecord, { minEntries: 20, minLayerEntries: 5 });
  wholeParse.maxBytes = 0;
  Object.assign(streamRead, { batch: 3, chunk: 11 });
});
afterEach(() => {
  Object.assign(packedRecord, { minEntries: saved.minEntries, minLayerEntries: saved.minLayerEntries });
  wholeParse.maxBytes = saved.whole;
  Object.assign(streamRead, saved.stream);
});

async function fromFile(text: string): Promise<Lists> {
  const f = path.join(tmp, 'r.json');
  await writeFile(f, text);
  const fd = openSync(f, 'r');
  try {
    return parseRecordFile(fd, packedRecord.minEntries, packedRecord.minLayerEntries) as Lists;
  } finally {
    closeSync(fd);
  }
}

describe('a patch layer beside a packed manifest', () => {
  for (const [how, read] of [
    ['from its bytes', async (text: string) => parseRecordBytes(Buffer.from(text)) as Lists],
    ['from its file, a piece at a time', fromFile],
  ] as const) {
    it(`is packed from minLayerEntries, and reads as JSON.parse gives (${how})`, async () => {
      for (const n of [40, 41, 60]) {
        const text = JSON.stringify(record(n));
        const v = await read(text);
        expect(JSON.stringify(v), `${n}`).toBe(text);
        expect(v).toEqual(JSON.parse(text));
        expect(packedStoreOf(v.manifests[0]!.entries), `${n} manifest`).toBeDefined();
        // The patch (n/4 whiteouts, a folder and a link: below minEntries) is packed beside its tree's packed list.
        expect(v.plan.layers[1]!.entries.length).toBeLessThan(packedRecord.minEntries);
        expect(packedStoreOf(v.plan.layers[1]!.entries), `${n} patch`).toBeDefined();
        // The small tree's lists stay objects.
        expect(packedStoreOf(v.plan.layers[2]!.entries)).toBeUndefined();
        expect(packedStoreOf(v.manifests[1]!.entries)).toBeUndefined();
      }
    });

    it(`leaves a list below minLayerEntries, or of a tree whose manifest is objects, as objects (${how})`, async () => {
      const small = JSON.stringify(record(6));
      const s = await read(small);
      expect(JSON.stringify(s)).toBe(small);
      expect(packedStoreOf(s.manifests[0]!.entries)).toBeUndefined();
      expect(packedStoreOf(s.plan.layers[1]!.entries)).toBeUndefined();
      // The patch names a tree ('app') whose manifest is not packed: objects, as before.
      const other = JSON.stringify(record(30, 'app'));
      const o = await read(other);
      expect(JSON.stringify(o)).toBe(other);
      expect(packedStoreOf(o.plan.layers[1]!.entries)).toBeUndefined();
    });
  }
});
