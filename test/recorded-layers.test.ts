// The local build records that vouch for a layer cache row the previous record does not name
// (src/pipeline/recorded-layers.ts). Every record's summary was read, whatever their number: one per tag ever
// built, each ~170 MB to step through for a 1M-entry game. Now only the newest few are read, newest first and only
// until one names the inputs asked for; a row only an older record names is proven from its blob instead
// (test/layer-cache-vouch-bound.test.ts shows that through the CLI).
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordedLayers, vouching } from '../src/pipeline/recorded-layers.js';
import { tempDir } from './support/tmp.js';

const DEFAULT = vouching.records;
afterEach(() => {
  vouching.records = DEFAULT;
});

/** A build record of `settingsKey`, built at `createdAt`, whose one layer has the inputs `inputKey` and the tar `diffID`. */
function record(settingsKey: string, inputKey: string, diffID: string, createdAt: string) {
  const entries = [{ path: 'a.dat', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' }];
  return {
    schemaVersion: 1,
    game: 'g',
    createdAt,
    tags: ['t'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries, inputKey, bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey, diffID, digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [],
    settingsKey,
    kind: 'build',
  };
}

/** `count` records, build-r<i>.json, record i naming inputs k<i> as tar d<i>, built (and modified) i minutes after a start. */
async function records(count: number, settingsOf: (i: number) => string = () => 'S'): Promise<string> {
  const state = await tempDir();
  const dir = path.join(state, 'records');
  await mkdir(dir, { recursive: true });
  const start = Date.parse('2026-01-01T00:00:00Z') / 1000;
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `build-r${String(i).padStart(3, '0')}.json`);
    await writeFile(file, JSON.stringify(record(settingsOf(i), `k${i}`, `sha256:d${i}`, new Date((start + i * 60) * 1000).toISOString())));
    await utimes(file, start + i * 60, start + i * 60);
  }
  return state;
}

describe('records vouching for layer cache rows', () => {
  it('reads only as many of the newest records as it takes, never more than the bound, however many there are', async () => {
    const state = await records(200);
    const vouchers = recordedLayers(state, 'S');
    expect(await vouchers.diffID('k199')).toBe('sha256:d199');
    expect(vouchers.reads).toBe(1);
    expect(await vouchers.diffID('k197')).toBe('sha256:d197');
    expect(vouchers.reads).toBe(3);
    // Only the oldest record names k0: not vouched (its row is proven from its blob), after 4 reads of 200.
    expect(await vouchers.diffID('k0')).toBeUndefined();
    expect(await vouchers.diffID('k150')).toBeUndefined();
    expect(vouchers.reads).toBe(DEFAULT);
    // Rows asked at once read each record once.
    const together = recordedLayers(state, 'S');
    expect(await Promise.all(['k196', 'k199', 'k1', 'k198'].map((k) => together.diffID(k)))).toEqual(['sha256:d196', 'sha256:d199', undefined, 'sha256:d198']);
    expect(together.reads).toBe(DEFAULT);
  });

  // Noting a push rewrites the record file (markPushed): the old code took the file's time for the build's, so an old
  // build pushed again passed for the newest and took one of the few places from a newer build.
  it('the newest are those built last, whatever the times of the files: an old record rewritten (a push noted) is still old', async () => {
    const state = await records(10);
    const old = path.join(state, 'records', 'build-r002.json');
    const now = Date.now() / 1000;
    await utimes(old, now, now);
    const vouchers = recordedLayers(state, 'S');
    expect(await vouchers.diffID('k2')).toBeUndefined();
    expect(vouchers.reads).toBe(DEFAULT);
    expect(await Promise.all(['k9', 'k8', 'k7', 'k6'].map((k) => vouchers.diffID(k)))).toEqual(['sha256:d9', 'sha256:d8', 'sha256:d7', 'sha256:d6']);
    expect(vouchers.reads).toBe(DEFAULT);
  });

  it('an old record still vouches when it is among the newest few, and records of other settings vouch for nothing', async () => {
    vouching.records = 5;
    // The newest records are of other settings (another compression, say): they count as read and vouch for nothing.
    const state = await records(10, (i) => (i >= 7 ? 'other' : 'S'));
    const vouchers = recordedLayers(state, 'S');
    expect(await vouchers.diffID('k9')).toBeUndefined();
    expect(await vouchers.diffID('k5')).toBe('sha256:d5');
    expect(vouchers.reads).toBe(5);
    expect(await vouchers.diffID('k4')).toBeUndefined();
    expect(vouchers.reads).toBe(5);
  });
});
