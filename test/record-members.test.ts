// A large record's push is noted without reading or writing it whole (src/state/record-members.ts): its top-level
// members found a MiB at a time are those `topLevelMembers` finds in its bytes, and markPushed writes the very bytes
// it writes for a small record (the push spliced in, or the same entry replaced), whatever the record's layout.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topLevelPlaces } from '../src/state/record-members.js';
import { topLevelMembers } from '../src/state/record-summary.js';
import { markPushed, recordStream } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { tempDir } from './support/tmp.js';

function record(pushed?: unknown[]) {
  const entries = Array.from({ length: 30 }, (_, i) => ({ path: `a/ä "{[${i}]}" \\.dat`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' }));
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g "}]"',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries, digest: 'sha256:dd', root: '/r', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries, inputKey: 'k', bytes: 1 }] },
    layers: [],
    images: [{ name: 'server', digest: 'sha256:bb', mediaType: 'm' }],
    ...(pushed ? { pushed } : {}),
  };
}

/** The places of the file's members, read through a descriptor as the callers open it. */
function placesOf(file: string) {
  const fd = openSync(file, 'r');
  try {
    return topLevelPlaces(fd, fstatSync(fd).size, file);
  } finally {
    closeSync(fd);
  }
}

describe('a large record noted as pushed', () => {
  it('has the members topLevelMembers finds', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'r.json');
    for (const text of [JSON.stringify(record()), ` ${JSON.stringify(record([{ repository: 'x', images: [], at: 't' }]), null, 2)}\n`, '{}', '{"a":1,"b":"}","c":[{"d":[]}],"e":true}']) {
      await writeFile(file, text);
      const bytes = Buffer.from(text);
      const places = placesOf(file);
      const members = topLevelMembers(bytes);
      expect(places.members).toEqual(members.members.map(({ key, valueStart, valueEnd }) => ({ key, valueStart, valueEnd })));
      expect(places.end).toBe(members.end);
    }
    for (const text of ['{"a":1,}', '{"a":1', '{"a":1}x', '[1]', '{"a" 1}', '{"a":}', '{,"a":1}']) {
      await writeFile(file, text);
      expect(() => placesOf(file), text).toThrow(SyntaxError);
    }
  });

  it('is written as the same bytes as a small one, the push added or replaced', async () => {
    const dir = await tempDir();
    const entry = { repository: 'localhost:5000/g', images: [{ name: 'server', digest: 'sha256:bb' }], at: '2026-12-05T01:00:00.000Z' };
    const texts = [
      JSON.stringify(record()),
      JSON.stringify(record([{ ...entry, images: [] }, { repository: 'other', images: [], at: 'x' }])),
      JSON.stringify(record([{ repository: 'other', images: [], at: 'x' }]), null, 2),
    ];
    const saved = recordStream.minBytes;
    try {
      for (const text of texts) {
        const written: string[] = [];
        for (const min of [Number.MAX_SAFE_INTEGER, 0]) {
          recordStream.minBytes = min;
          const state = path.join(dir, `s${min}`);
          await mkdir(path.join(state, 'records'), { recursive: true });
          await writeFile(path.join(state, 'records', 'build-v1.json'), text);
          await copyFile(path.join(state, 'records', 'build-v1.json'), path.join(state, 'records', 'build-last.json'));
          const updated = await markPushed(state, record() as unknown as BuildRecord, entry);
          expect(updated).toHaveLength(2);
          written.push(await readFile(path.join(state, 'records', 'build-last.json'), 'utf8'));
        }
        expect(written[1]).toBe(written[0]);
        expect(written[1]).not.toBe(text);
      }
    } finally {
      recordStream.minBytes = saved;
    }
  });
});
