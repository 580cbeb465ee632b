// `gamelayer index` gives the merged record the newest platform build's createdAt. It took the greatest text: a
// platform record written at another zone or precision (another host's tool or version) lost to an older one
// ("…05:00:00-05:00", 10:00 UTC, sorted before "…09:30:00Z"). The newest instant wins now, its text as written.
import { describe, expect, it } from 'vitest';
import { mergedRecord } from '../src/registry/merge-index.js';
import { MEDIA_TYPES } from '../src/registry/client.js';
import { SERVER_IMAGE, TREE_NAMES, type BuildRecord } from '../src/types.js';

function platformRecord(platform: string, createdAt: string): BuildRecord {
  return { schemaVersion: 1, game: 'g', createdAt, tags: [`v1-${platform.replace('/', '-')}`], platforms: [platform], manifests: [], plan: { layers: [] }, layers: [], images: [] };
}

describe('the merged record of platform builds written in other zones and precisions', () => {
  const indexes = new Map([SERVER_IMAGE, ...TREE_NAMES].map((n, i) => [n, { mediaType: MEDIA_TYPES.ociIndex, digest: `sha256:${String(i).repeat(64)}`, size: 1 }]));
  it.each([
    [['2026-12-07T09:30:00Z', '2026-12-07T05:00:00-05:00'], '2026-12-07T05:00:00-05:00'],
    [['2026-12-07T09:30:00.250Z', '2026-12-07T09:30:00Z'], '2026-12-07T09:30:00.250Z'],
  ])('%j: the newest instant, as written', (times, newest) => {
    const records = [platformRecord('linux/amd64', times[0]!), platformRecord('linux/arm64', times[1]!)];
    for (const order of [records, [...records].reverse()]) {
      expect(mergedRecord(order, 'v1', ['linux/amd64', 'linux/arm64'], indexes, undefined).createdAt).toBe(newest);
    }
  });
});
