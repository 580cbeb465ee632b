// markPushed listed the records folder before it took the records lock: a record placed while it waited for the
// lock (another store's build of the same tag, its copy of the record) was not marked. It lists under the lock.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { markPushed } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { acquireLock } from '../src/util/lock-file.js';
import { tempDir } from './support/tmp.js';

// Told when markPushed asks for the records lock (the real one, which the test holds meanwhile).
const asked = vi.hoisted(() => ({ resolve: () => {} }));
vi.mock('../src/state/records-lock.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/state/records-lock.js')>();
  const withRecordsLock: typeof real.withRecordsLock = (...args) => {
    asked.resolve();
    return real.withRecordsLock(...args);
  };
  return { ...real, withRecordsLock };
});

const record = {
  kind: 'build',
  schemaVersion: 1,
  game: 'g',
  createdAt: '2026-12-07T00:00:00.000Z',
  tags: ['v1'],
  platforms: ['linux/amd64'],
  manifests: [{ tree: 'app', entries: [{ path: 'a.cfg', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' }], digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
  plan: { layers: [{ tree: 'app', index: 0, entries: [{ path: 'a.cfg', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' }], inputKey: 'k', bytes: 1 }] },
  layers: [{ tree: 'app', index: 0, inputKey: 'k', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
  images: [{ name: 'server', digest: 'sha256:1', mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
};
const entry = { repository: 'r.example/g', images: [{ name: 'server', digest: 'sha256:1' }], at: '2026-12-07T01:00:00.000Z' };

describe('markPushed beside another build', () => {
  it('marks a record of the build placed while it waited for the records lock', async () => {
    const stateDir = await tempDir();
    const file = (n: string) => path.join(stateDir, 'records', n);
    await mkdir(path.join(stateDir, 'records'));
    await writeFile(file('build-v1.json'), JSON.stringify(record));
    const release = await acquireLock(path.join(stateDir, 'records.lock'));
    const waiting = new Promise<void>((resolve) => (asked.resolve = resolve));
    const marking = markPushed(stateDir, record as unknown as BuildRecord, entry);
    await waiting;
    // Another store's build of v1 places its record (the same build) while the lock is held.
    await writeFile(file('build-v1@0123456789ab.json'), JSON.stringify(record));
    await release();
    expect((await marking).map((f) => path.basename(f)).sort()).toEqual(['build-v1.json', 'build-v1@0123456789ab.json']);
    expect(JSON.parse(await readFile(file('build-v1@0123456789ab.json'), 'utf8')).pushed).toEqual([entry]);
  });
});
