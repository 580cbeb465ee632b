// A push reads each manifest and config of the local store once: the server image's were read twice (once before
// anything is sent, to fail early and to compare the record's index, then again to push the image). Counted as the
// whole-file reads of each blob (manifests and configs are read whole; layers stream and are not counted here).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { sampleGame } from './support/sample.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const reads = vi.hoisted(() => new Map<string, number>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = ((file: unknown, ...rest: unknown[]) => {
    if (typeof file === 'string') reads.set(file, (reads.get(file) ?? 0) + 1);
    return (fs.readFile as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFile;
  return { ...fs, readFile, default: { ...fs, readFile } };
});

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry.stop();
});

describe('push: the local store read once', () => {
  it('reads every manifest and config blob of the store at most once per push, the first and a no-op one', async () => {
    const { config } = await sampleGame();
    const r = await build({ config });
    const blobs = path.join(r.store, 'blobs/sha256');
    const repository = `${registry.host}/studio/reads`;
    for (const round of ['first', 'no-op']) {
      reads.clear();
      await pushBuild({ store: r.store, record: r.record, repository });
      const blobReads = [...reads].filter(([file]) => file.startsWith(blobs));
      // The server image and each tree image: a manifest and a config each.
      expect(blobReads.length, round).toBeGreaterThanOrEqual(2 * r.record.tags.length);
      expect(blobReads.filter(([, n]) => n > 1), round).toEqual([]);
    }
  });
});
