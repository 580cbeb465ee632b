// Platform builds on separate hosts that start together split the shared media layers between them: each sends
// its own stripe first and asks again for the rest (registry/push.ts splitByStripe, pipeline/steps/push.ts
// mediaStripe). The end-to-end case (both hosts, one registry, each blob completed once) is in
// platform-merge.test.ts; the bytes of a cold batch graph are in bench/README.md ("Batch graph").
import { describe, expect, it } from 'vitest';
import { mediaStripe } from '../src/pipeline/steps/push.js';
import { splitByStripe } from '../src/registry/push.js';
import type { BuildRecord } from '../src/types.js';

const d = (n: number) => ({ digest: `sha256:${String(n).repeat(64).slice(0, 64)}` });

describe('splitting shared blobs between hosts', () => {
  it('the hosts take complementary stripes of the shared blobs, and every blob of their own first', () => {
    const shared = [d(1), d(2), d(3), d(4), d(5)];
    const own = [d(7), d(8)];
    const all = [d(7), ...shared, d(8)];
    const set = new Set(shared.map((b) => b.digest));
    const [firstA, laterA] = splitByStripe(all, { shared: set, index: 0, of: 2, waitMs: 1000 });
    const [firstB, laterB] = splitByStripe(all, { shared: set, index: 1, of: 2, waitMs: 1000 });
    for (const b of own) {
      expect(firstA).toContainEqual(b);
      expect(firstB).toContainEqual(b);
    }
    const stripeA = firstA.filter((b) => set.has(b.digest));
    const stripeB = firstB.filter((b) => set.has(b.digest));
    expect(stripeA.length + stripeB.length).toBe(shared.length); // each shared blob is first for exactly one host
    expect(new Set([...stripeA, ...stripeB].map((b) => b.digest))).toEqual(set);
    expect(laterA).toEqual(stripeB);
    expect(laterB).toEqual(stripeA);
    // Not shared with anyone: everything goes first.
    expect(splitByStripe(all, undefined)).toEqual([all, []]);
    expect(splitByStripe(all, { shared: set, index: 0, of: 1, waitMs: 1000 })).toEqual([all, []]);
  });

  it('a build of one of several platforms shares its media layers; a build of every platform, a one-platform game or a build without --media-wait shares nothing', () => {
    const record = {
      platforms: ['linux/arm64'],
      layers: [
        { tree: 'engine', digest: d(1).digest },
        { tree: 'engine-media', digest: d(2).digest },
        { tree: 'app', digest: d(3).digest },
        { tree: 'app-media', digest: d(4).digest },
      ],
    } as unknown as BuildRecord;
    expect(mediaStripe(record, ['linux/amd64', 'linux/arm64'], 60_000)).toEqual({ shared: new Set([d(2).digest, d(4).digest]), index: 1, of: 2, waitMs: 60_000 });
    expect(mediaStripe(record, ['linux/amd64', 'linux/arm64'])).toBeUndefined(); // no --media-wait: no stripes
    expect(mediaStripe(record, ['linux/arm64'], 60_000)).toBeUndefined();
    expect(mediaStripe({ ...record, platforms: ['linux/amd64', 'linux/arm64'] }, ['linux/amd64', 'linux/arm64'], 60_000)).toBeUndefined();
    expect(mediaStripe(record, undefined, 60_000)).toBeUndefined();
  });
});
