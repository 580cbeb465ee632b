// markPushed holds one record's bytes at a time: the last build, a copy of the tagged record, is compared with it a
// MiB at a time and changed the same way, not read whole beside it (a 1M-file game's record is 170 MB). Counted,
// not timed: the whole-file reads of the records folder (readFile, and the record reader's readRecordFileBytes).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { markPushed } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const reads = vi.hoisted(() => ({ files: [] as string[] }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = ((file: Parameters<typeof real.readFile>[0], ...rest: unknown[]) => {
    reads.files.push(String(file));
    return (real.readFile as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof real.readFile;
  return { ...real, default: { ...real, readFile }, readFile };
});

// A record file read whole through the reader that refuses what is not a regular file (record-file.ts).
vi.mock('../src/state/record-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/state/record-file.js')>();
  const readRecordFileBytes: typeof real.readRecordFileBytes = (file, ...rest) => {
    reads.files.push(file);
    return real.readRecordFileBytes(file, ...rest);
  };
  // The same, on a file already opened and checked (withRecordFile): what the readers use since the reopen went.
  const readOpenedBytes: typeof real.readOpenedBytes = (file, ...rest) => {
    reads.files.push(file);
    return real.readOpenedBytes(file, ...rest);
  };
  return { ...real, readRecordFileBytes, readOpenedBytes };
});

function record(version: string, entries = 5000) {
  const list = Array.from({ length: entries }, (_, i) => ({ path: `levels/l${i}.dat`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' }));
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g',
    version,
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1', 'v1-app'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries: list, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries: list, inputKey: 'k', bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey: 'k', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: `sha256:${version}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
  };
}

const entry = { repository: 'r.example/g', images: [{ name: 'server', digest: 'sha256:1' }], at: '2026-12-05T01:00:00.000Z' };

async function stateWith(tagged: unknown, last: unknown): Promise<{ stateDir: string; file: (n: string) => string }> {
  const stateDir = await tempDir();
  await mkdir(path.join(stateDir, 'records'));
  const file = (n: string) => path.join(stateDir, 'records', n);
  await writeFile(file('build-v1.json'), JSON.stringify(tagged));
  await writeFile(file('build-last.json'), JSON.stringify(last));
  return { stateDir, file };
}

const wholeReads = (stateDir: string) => reads.files.filter((f) => f.startsWith(stateDir)).map((f) => path.basename(f));

describe('markPushed', () => {
  it('reads the tagged record whole and its copy, the last build, a piece at a time; both get the same bytes', async () => {
    const r = record('1');
    const { stateDir, file } = await stateWith(r, r);
    reads.files = [];
    const updated = await markPushed(stateDir, r as unknown as BuildRecord, entry);
    expect(updated.map((f) => path.basename(f))).toEqual(['build-v1.json', 'build-last.json']);
    expect(wholeReads(stateDir)).toEqual(['build-v1.json']);
    const written = await readFile(file('build-v1.json'), 'utf8');
    expect(JSON.parse(written)).toEqual({ ...r, pushed: [entry] });
    expect(await readFile(file('build-last.json'), 'utf8')).toBe(written);
    // Again, with the same images: nothing written, both named, one read whole.
    reads.files = [];
    expect((await markPushed(stateDir, r as unknown as BuildRecord, entry)).length).toBe(2);
    expect(wholeReads(stateDir)).toEqual(['build-v1.json']);
    expect(await readFile(file('build-last.json'), 'utf8')).toBe(written);
  });

  it('checks a last build of another build on its own, and leaves it alone', async () => {
    const r = record('1');
    const other = record('2');
    const { stateDir, file } = await stateWith(r, other);
    const updated = await markPushed(stateDir, r as unknown as BuildRecord, entry);
    expect(updated.map((f) => path.basename(f))).toEqual(['build-v1.json']);
    expect(JSON.parse(await readFile(file('build-last.json'), 'utf8'))).toEqual(other);
    // The tagged record of another build, the last build this one: only the last build is marked.
    const swapped = await stateWith(other, r);
    expect((await markPushed(swapped.stateDir, r as unknown as BuildRecord, entry)).map((f) => path.basename(f))).toEqual(['build-last.json']);
    expect(JSON.parse(await readFile(swapped.file('build-v1.json'), 'utf8'))).toEqual(other);
    expect(JSON.parse(await readFile(swapped.file('build-last.json'), 'utf8'))).toEqual({ ...r, pushed: [entry] });
  });
});
