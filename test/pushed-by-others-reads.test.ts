// A deploy whose build was not pushed looks for the same digests in the pushes other local builds noted: it read
// each other record's summary, which is the whole file (a 100k-entry record: 16 MB; 1M entries: 170 MB), for its
// `pushed` list alone. The list is the record's last member (markPushed adds it last): only the end of each file is
// read now, beside its 4 KiB head. Counted, not timed: the bytes read from files (readSync, and whole reads).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeployInput } from '../src/k8s/input.js';
import { pushedByOthers } from '../src/k8s/pushed-by-others.js';
import { markPushed } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { damagedAfterHead, headRecord } from './support/head-records.js';
import { tempDir } from './support/tmp.js';

const read = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const readSync = ((...a: Parameters<typeof real.readSync>) => {
    const n = (real.readSync as (...x: unknown[]) => number)(...a);
    read.bytes += n;
    return n;
  }) as typeof real.readSync;
  return { ...real, default: { ...real, readSync }, readSync };
});
// Whole reads of a record file (record-file.ts readOpenedBytes, through small-file.ts).
vi.mock('../src/util/small-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/util/small-file.js')>();
  const readUpTo: typeof real.readUpTo = async (...a) => {
    const bytes = await real.readUpTo(...a);
    read.bytes += bytes.length;
    return bytes;
  };
  return { ...real, readUpTo };
});
beforeEach(() => void (read.bytes = 0));

const ENTRIES = 100_000;
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** `text` with `length` bytes from `at` wrecked (the file's length kept). */
function wrecked(text: string, at: number, length = 24): string {
  return `${text.slice(0, at)}${'\u0000'.repeat(length)}${text.slice(at + length)}`;
}

describe("a deploy's search for the images other builds pushed", () => {
  it('reads the end of each other record, not all of it; an unpushed record, and the list of one that is damaged or no record, are passed over', async () => {
    const stateDir = await tempDir('gl-pushed-others-');
    const dir = path.join(stateDir, 'records');
    await mkdir(dir);
    const deployed = headRecord('w9', 'oci', 10);
    await writeFile(path.join(dir, 'build-w9.json'), JSON.stringify(deployed));
    const push = (c: string) => ({ repository: 'r.example/g', images: [{ name: 'server', digest: digest(c) }], at: '2026-12-05T01:00:00.000Z' });
    // Builds of the same content, pushed: each push noted as a push notes it (its list the record's last member).
    const pushed = async (tag: string, entries: number, c: string) => {
      const record = headRecord(tag, 'oci', entries);
      await writeFile(path.join(dir, `build-${tag}.json`), JSON.stringify(record));
      await markPushed(stateDir, record as unknown as BuildRecord, push(c));
      return readFile(path.join(dir, `build-${tag}.json`), 'utf8');
    };
    const size = (await pushed('w1', ENTRIES, 'b')).length;
    expect(size).toBeGreaterThan(10 << 20);
    // One never pushed, as large; one damaged past its head, no list.
    await writeFile(path.join(dir, 'build-w2.json'), JSON.stringify({ ...headRecord('w2', 'oci', ENTRIES), settingsKey: 'k' }));
    await writeFile(path.join(dir, 'build-w3.json'), damagedAfterHead(headRecord('w3', 'oci', ENTRIES)));
    // Pushed ones, their lists intact at the end: a large record with bytes wrecked in its head (its store and tag),
    // a small one (read whole) wrecked after its head.
    const w4 = await pushed('w4', ENTRIES, 'c');
    await writeFile(path.join(dir, 'build-w4.json'), wrecked(w4, '{"kind":"build",'.length));
    const w5 = await pushed('w5', 10, 'd');
    await writeFile(path.join(dir, 'build-w5.json'), wrecked(w5, w5.indexOf('"manifests"')));
    // A file that is no record, ending as one does; a record whose head names another tag than its file's name.
    await writeFile(path.join(dir, 'build-w6.json'), `not json ${JSON.stringify({ pushed: [push('e')] })}`);
    await writeFile(path.join(dir, 'build-w7.json'), JSON.stringify({ ...headRecord('w8', 'oci', 10), pushed: [push('f')] }));

    const input = {
      repository: 'r.example/g',
      serverDigestRef: `r.example/g@${digest('b')}`,
      trees: ['c', 'd', 'e', 'f'].map((c) => ({ imageDigest: digest(c) })),
    } as unknown as DeployInput;
    read.bytes = 0;
    const found = await pushedByOthers(stateDir, deployed as unknown as BuildRecord, input, path.join(dir, 'build-w9.json'));
    expect([...found]).toEqual([[digest('b'), 'w1']]);
    // Each of the six: at most its head (4 KiB) and its last 64 KiB (record-pushed.ts); the summaries were the whole files.
    expect(read.bytes, `${read.bytes} bytes read; the other records hold more than ${4 * size}`).toBeLessThanOrEqual(6 * (4 + 64) * 1024);
  }, 60_000);
});
