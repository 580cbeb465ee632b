// A registry's gzipped build record from recordStream.minBytes on is inflated into a temp file a piece at a time and
// parsed from there (src/state/record-gzip.ts), never inflated whole: the value is what the whole inflate and
// JSON.parse give, a blob past the limit or not gzip is refused, and bytes that are not JSON give undefined.
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { isLargeGzippedRecord, parseGzippedRecord, RecordInflateError } from '../src/state/record-gzip.js';
import { packedRecord } from '../src/state/record-parse.js';
import { recordStream } from '../src/state/records.js';
import { streamRead } from '../src/state/record-stream.js';

const entries = Array.from({ length: 600 }, (_, i) => ({ path: `a/ä "q" \\ ${String(i).padStart(5, '0')}.dat`, type: 'file', mode: 420, size: i, xxh64: (0xabc000 + i).toString(16).padStart(16, '0') }));
const record = {
  kind: 'build',
  schemaVersion: 1,
  game: 'g',
  createdAt: '2026-12-05T00:00:00.000Z',
  tags: ['v1'],
  platforms: ['linux/amd64'],
  manifests: [{ tree: 'app', entries, digest: 'sha256:dd', root: '/r', source: { kind: 'dir', path: 'app' } }],
  plan: { layers: [{ tree: 'app', index: 0, entries, inputKey: 'k0', bytes: 1, platform: 'linux/amd64' }] },
  layers: [],
  images: [],
};

const saved = { min: 0, entries: 0, chunk: 0, batch: 0 };
beforeEach(() => {
  Object.assign(saved, { min: recordStream.minBytes, entries: packedRecord.minEntries, chunk: streamRead.chunk, batch: streamRead.batch });
  recordStream.minBytes = 1000;
  packedRecord.minEntries = 100;
  streamRead.chunk = 4096;
  streamRead.batch = 50;
});
afterEach(() => {
  recordStream.minBytes = saved.min;
  packedRecord.minEntries = saved.entries;
  streamRead.chunk = saved.chunk;
  streamRead.batch = saved.batch;
});

describe('a large gzipped record', () => {
  it('parses to what JSON.parse of the whole inflate gives, its lists packed', async () => {
    const text = JSON.stringify(record);
    const gz = gzipSync(text);
    expect(isLargeGzippedRecord(gz)).toBe(true);
    const value = (await parseGzippedRecord(gz, 1 << 30)) as typeof record;
    expect(JSON.stringify(value)).toBe(text);
    expect(packedStoreOf(value.manifests[0]!.entries)).toBeDefined();
    expect(value.plan.layers[0]!.entries).toBe(value.manifests[0]!.entries);
  });

  it('refuses a blob past the limit or not gzip; bytes that are not JSON are undefined', async () => {
    const gz = gzipSync(JSON.stringify(record));
    await expect(parseGzippedRecord(gz, 2000)).rejects.toThrow(RecordInflateError);
    await expect(parseGzippedRecord(gz, 2000)).rejects.toThrow(/inflates to more than 2000 bytes/);
    await expect(parseGzippedRecord(gz.subarray(0, gz.length - 100), 1 << 30)).rejects.toThrow(RecordInflateError);
    expect(await parseGzippedRecord(gzipSync(`${JSON.stringify(record).slice(0, -1)},`), 1 << 30)).toBeUndefined();
  });
});
