// The deploy specs' counts of a build record (src/k8s/record-counts.ts): a large record (from
// recordStream.minBytes on) read a chunk and a batch of entries at a time gives what the record held whole gives,
// and refuses what it refuses with the same code and message.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readDeployRecord } from '../src/k8s/record-counts.js';
import { recordStream } from '../src/state/record-file.js';
import { streamRead } from '../src/state/record-stream.js';
import { appTreeRecord, restoreStreamSettingsAfterEach, streamDefaults } from './support/stream-record.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number) => ({ path: i % 7 === 0 ? `.gamelayer-chunks/c${i}` : `bin/ä "x" [${i}].so`, type: i % 5 === 0 ? 'dir' : 'file', mode: i % 3 === 0 ? 493 : 420, size: i % 5 === 0 ? 0 : i });

const record = (n: number) => appTreeRecord(Array.from({ length: n }, (_, i) => entry(i)));

restoreStreamSettingsAfterEach();
beforeEach(() => {
  Object.assign(streamRead, { batch: 7, chunk: 4096 });
});

/** readDeployRecord of `file` (or its error's code and message), whole or streamed, and its largest allocation. */
async function read(file: string, streamed: boolean): Promise<{ value: unknown; largest: number }> {
  recordStream.minBytes = streamed ? 0 : streamDefaults.minBytes;
  const alloc = vi.spyOn(Buffer, 'allocUnsafe');
  try {
    const value = await readDeployRecord(file).catch((e: Error & { code?: string }) => `${e.code}: ${e.message}`);
    return { value, largest: Math.max(0, ...alloc.mock.calls.map((c) => c[0])) };
  } finally {
    alloc.mockRestore();
  }
}

describe('the deploy counts of a large record', () => {
  it('are those of the record held whole, which is never held', async () => {
    const dir = await tempDir();
    const text = JSON.stringify(record(30_000));
    const file = path.join(dir, 'build-v1.json');
    await writeFile(file, text);
    const whole = await read(file, false);
    const streamed = await read(file, true);
    expect(streamed.value).toEqual(whole.value);
    expect((whole.value as { manifests: { entries: number }[] }).manifests[0]!.entries).toBe(30_000);
    expect(whole.largest).toBeGreaterThanOrEqual(text.length);
    expect(text.length).toBeGreaterThan(2 << 20);
    expect(streamed.largest).toBeLessThan(text.length / 2);
  });

  it('refuses what the whole reader refuses, with the same code and message', async () => {
    const dir = await tempDir();
    const good = record(40);
    const m0 = good.manifests[0]!;
    const texts = [
      JSON.stringify(good).slice(0, -200),
      JSON.stringify({ ...good, manifests: [{ ...m0, entries: [...m0.entries.slice(0, 3), null] }] }),
      JSON.stringify({ ...good, manifests: [{ ...m0, entries: [...m0.entries.slice(0, 3), { path: 'x' }] }] }),
      JSON.stringify({ ...good, manifests: [{ ...m0, entries: 'none' }] }),
      JSON.stringify({ ...good, schemaVersion: 2 }),
      JSON.stringify(good).replace('"tags"', '"manifests":[],"tags"'),
    ];
    for (const [i, t] of texts.entries()) {
      const file = path.join(dir, `r${i}.json`);
      await writeFile(file, t);
      expect((await read(file, true)).value, `text ${i}`).toEqual((await read(file, false)).value);
    }
    expect((await read(path.join(dir, 'r1.json'), true)).value).toMatch(/^record.corrupt: .*manifests\[0\]\.entries\[3\]: not an entry/);
    expect((await read(path.join(dir, 'none.json'), true)).value).toMatch(/^record.no-build: /);
  });
});
