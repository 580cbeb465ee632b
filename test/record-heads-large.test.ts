// The readers of a build's heads (src/state/record-totals.ts readRecordHeads): `diff --against`'s pull cost to the
// last local build and `gc`'s kept state of each build. A large record (from recordStream.minBytes on) is read for
// its skeleton a chunk at a time and gives what the record held whole gives; its bytes are never held (read whole,
// the 1M-entry game's 172 MB record was held beside the scan: `diff --against` peaked at 434 MiB).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { GameConfig } from '../src/config/load.js';
import { lastBuildForPullCost } from '../src/diff/states.js';
import { readKeptState } from '../src/inventory/gc-state.js';
import { recordStream } from '../src/state/record-file.js';
import { streamRead } from '../src/state/record-stream.js';
import { LAST_BUILD, recordsDir } from '../src/state/records.js';
import { appTreeRecord, restoreStreamSettingsAfterEach, streamDefaults } from './support/stream-record.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number) => ({ path: `bin/f${String(i).padStart(6, '0')}`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' });

const record = (n: number) => appTreeRecord(Array.from({ length: n }, (_, i) => entry(i)));

restoreStreamSettingsAfterEach();

/** `read()` (or its error's code and message), whole or streamed, and its largest Buffer allocation. */
async function measured(read: () => Promise<unknown>, streamed: boolean): Promise<{ value: unknown; largest: number }> {
  recordStream.minBytes = streamed ? 0 : streamDefaults.minBytes;
  Object.assign(streamRead, { batch: 7, chunk: 4096 });
  const alloc = vi.spyOn(Buffer, 'allocUnsafe');
  try {
    const value = await read().catch((e: Error & { code?: string }) => `${e.code}: ${e.message}`);
    return { value, largest: Math.max(0, ...alloc.mock.calls.map((c) => c[0])) };
  } finally {
    alloc.mockRestore();
  }
}

describe("a large build record's heads", () => {
  it('are read for the pull cost and for gc as from the record held whole, which is never held', async () => {
    const stateDir = await tempDir();
    await mkdir(recordsDir(stateDir), { recursive: true });
    const file = path.join(recordsDir(stateDir), LAST_BUILD);
    const text = JSON.stringify(record(20_000));
    await writeFile(file, text);
    const config = { stateDir, store: path.join(stateDir, 'oci') } as GameConfig;
    for (const read of [() => lastBuildForPullCost(config), () => readKeptState(file)]) {
      const whole = await measured(read, false);
      const streamed = await measured(read, true);
      expect(typeof whole.value).toBe('object');
      expect(streamed.value).toEqual(whole.value);
      // Held whole: one buffer of the file's size. Streamed: chunks of 4 KiB and the skeleton.
      expect(whole.largest).toBeGreaterThanOrEqual(text.length);
      expect(streamed.largest).toBeLessThan(text.length / 20);
    }
    const pull = (await lastBuildForPullCost(config))!;
    expect(pull.manifests.map((m) => [m.tree, m.entries.length])).toEqual([['app', 0], ['engine', 0]]);
    expect((await readKeptState(file)).createdAt).toBe('2026-12-06T00:00:00.000Z');
  });

  it('keep their answers for a missing or damaged record', async () => {
    const stateDir = await tempDir();
    const config = { stateDir, store: path.join(stateDir, 'oci') } as GameConfig;
    expect(await lastBuildForPullCost(config)).toBeUndefined();
    await expect(readKeptState(path.join(stateDir, 'build-x.json'))).rejects.toThrow(/no such record/);
    await mkdir(recordsDir(stateDir), { recursive: true });
    const file = path.join(recordsDir(stateDir), LAST_BUILD);
    await writeFile(file, JSON.stringify(record(3_000)).slice(0, -40));
    for (const read of [() => lastBuildForPullCost(config), () => readKeptState(file)]) {
      const whole = await measured(read, false);
      const streamed = await measured(read, true);
      expect(whole.value).toMatch(/^record\.corrupt: .*not valid JSON/);
      expect(streamed.value).toEqual(whole.value);
    }
  });
});
