// Whose a local build record is (its store, its tag) is read from the file's head: the build writes `kind` and
// `store` first (records written before stop 48 have `store` last and are judged by their summary). A same-tag or
// no-op build read the whole existing record for its store, and every push read every store's last build whole (a
// 1M-entry game's record is 170 MB). Observed here with records damaged after their head: a reader that still reads
// past the head finds them not JSON, and took them as unreadable (moved nothing) or failed on them.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordOfTagOrFile } from '../src/cli/build-choice.js';
import type { GameConfig } from '../src/config/load.js';
import { storeKey } from '../src/state/last-build.js';
import { buildRecordFile, buildRecordName, moveOtherStoresRecord } from '../src/state/record-name.js';
import { markPushed, readBuildRecord } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { damagedAfterHead, headRecord as record } from './support/head-records.js';
import { tempDir } from './support/tmp.js';

/** The same record as stop 47 wrote it: `store` last. */
function oldLayout(r: Record<string, unknown>): Record<string, unknown> {
  const { store, ...rest } = r;
  return { ...rest, store };
}

async function state(): Promise<{ stateDir: string; records: string; of: { stateDir: string; store: string }; otherStore: string }> {
  const stateDir = await tempDir('gl-record-head-');
  const records = path.join(stateDir, 'records');
  await mkdir(records);
  return { stateDir, records, of: { stateDir, store: path.join(stateDir, 'oci') }, otherStore: path.join(stateDir, '../b-store') };
}

describe('whose a local record is, read from its head', () => {
  it("moves another store's build-<tag>.json to that store's name without reading past its head", async () => {
    const { stateDir, records, of, otherStore } = await state();
    const file = path.join(records, 'build-w1.json');
    await writeFile(file, damagedAfterHead(record('w1', '../b-store')));
    await moveOtherStoresRecord(of, file);
    const moved = buildRecordName('w1', storeKey(stateDir, otherStore));
    expect(await readdir(records)).toEqual([moved]);
    expect(await buildRecordFile(of, 'w1')).toBeUndefined();
    expect(await buildRecordFile({ stateDir, store: otherStore }, 'w1')).toBe(path.join(records, moved));
  });

  it("reads a record stop 47 wrote (its store last, past the head) by its summary: another store's moves, this store's stays", async () => {
    const { stateDir, records, of, otherStore } = await state();
    const file = path.join(records, 'build-w1.json');
    const old = JSON.stringify(oldLayout(record('w1', '../b-store')));
    expect(old.indexOf('"store"')).toBeGreaterThan(4096);
    await writeFile(file, old);
    expect(await buildRecordFile(of, 'w1')).toBeUndefined();
    await moveOtherStoresRecord(of, file);
    const moved = path.join(records, buildRecordName('w1', storeKey(stateDir, otherStore)));
    expect(await readdir(records)).toEqual([path.basename(moved)]);
    expect(await readFile(moved, 'utf8')).toBe(old);

    await writeFile(file, JSON.stringify(oldLayout(record('w1', 'oci'))));
    await moveOtherStoresRecord(of, file);
    expect(await buildRecordFile(of, 'w1')).toBe(file);
    expect((await readBuildRecord(file)).store).toBe('oci');
  });

  it('finds a record stop 47 wrote by reading it once, and one written now by its head alone', async () => {
    const { findBuildRecord } = await import('../src/state/record-name.js');
    const { of, records } = await state();
    const reads: string[] = [];
    const read = (f: string) => (reads.push(path.basename(f)), readBuildRecord(f));
    await writeFile(path.join(records, 'build-w1.json'), JSON.stringify(oldLayout(record('w1', 'oci'))));
    const old = await findBuildRecord(of, 'w1', read);
    expect(old?.record?.tags[0]).toBe('w1');
    expect(reads).toEqual(['build-w1.json']);
    await writeFile(path.join(records, 'build-w2.json'), damagedAfterHead(record('w2', 'oci')));
    expect(await findBuildRecord(of, 'w2', read)).toEqual({ file: path.join(records, 'build-w2.json') });
    expect(reads).toEqual(['build-w1.json']);
  });

  it("notes a push without reading another store's last build of another tag past its head", async () => {
    const { stateDir, records, otherStore } = await state();
    const mine = record('w1', 'oci');
    await writeFile(path.join(records, 'build-w1.json'), JSON.stringify(mine));
    await writeFile(path.join(records, `build-last@${storeKey(stateDir, otherStore)}.json`), damagedAfterHead(record('w2', '../b-store')));
    const entry = { repository: 'r.example/g', images: [{ name: 'server', digest: 'sha256:w1' }], at: '2026-12-05T01:00:00.000Z' };
    const updated = await markPushed(stateDir, mine as unknown as BuildRecord, entry);
    expect(updated.map((f) => path.basename(f))).toEqual(['build-w1.json']);
    expect((await readBuildRecord(path.join(records, 'build-w1.json'))).pushed).toEqual([entry]);
  });

  it('takes --tag by its record file name, without reading the other builds', async () => {
    const { stateDir, records, of } = await state();
    await writeFile(path.join(records, 'build-w1.json'), JSON.stringify(record('w1', 'oci')));
    await writeFile(path.join(records, 'build-w0.json'), damagedAfterHead(record('w0', 'oci')));
    const config = { ...of, stateDir } as GameConfig;
    expect(await recordOfTagOrFile(config, { tag: 'w1' }, 'deploy.option', 'deploy')).toBe(path.join(records, 'build-w1.json'));
  });
});
