// Referrers (signatures, SBOMs, a build's record) are taken newest first by their `org.opencontainers.image.created`
// annotation. They were ordered by its text: a time written in another zone, or with and without fractional
// seconds, sorted wrong ("…T10:00:00+01:00", 09:00 UTC, came before "…T09:30:00Z"; "…09:30:00Z" before
// "…09:30:00.250Z"). They are ordered by the instants the annotations name.
import { describe, expect, it } from 'vitest';
import { newestFirst } from '../src/registry/referrers.js';
import type { Descriptor } from '../src/types.js';

const CREATED = 'org.opencontainers.image.created';
const referrer = (digest: string, created?: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest,
  size: 1,
  artifactType: 'application/vnd.example',
  ...(created === undefined ? {} : { annotations: { [CREATED]: created } }),
});

describe('referrers newest first', () => {
  it('orders by the instant the created annotation names, not its text', () => {
    const list = [
      referrer('sha256:a', '2026-12-07T10:00:00+01:00'), // 09:00 UTC
      referrer('sha256:b', '2026-12-07T09:30:00Z'),
      referrer('sha256:c', '2026-12-07T09:30:00.250Z'),
      referrer('sha256:d'),
    ];
    expect(newestFirst(list).map((m) => m.digest)).toEqual(['sha256:c', 'sha256:b', 'sha256:a', 'sha256:d']);
    expect(newestFirst([...list].reverse(), 'application/vnd.example').map((m) => m.digest)).toEqual(['sha256:c', 'sha256:b', 'sha256:a', 'sha256:d']);
  });
});
