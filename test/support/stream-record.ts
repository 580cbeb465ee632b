// Build records for the tests of the readers that stream large records (recordStream.minBytes on): one app tree
// of the given entries (its plan one layer of them) and an empty engine, and the stream settings put back after
// each test that moved them.
import { afterEach } from 'vitest';
import { recordStream } from '../../src/state/record-file.js';
import { streamRead } from '../../src/state/record-stream.js';

/** The settings as the code has them, before any test moves them. */
export const streamDefaults = { minBytes: recordStream.minBytes, batch: streamRead.batch, chunk: streamRead.chunk };

export function restoreStreamSettingsAfterEach(): void {
  afterEach(() => {
    recordStream.minBytes = streamDefaults.minBytes;
    Object.assign(streamRead, { batch: streamDefaults.batch, chunk: streamDefaults.chunk });
  });
}

export function appTreeRecord(entries: object[]) {
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g',
    createdAt: '2026-12-06T00:00:00.000Z',
    tags: ['v1'],
    platforms: ['linux/amd64'],
    manifests: [
      { tree: 'app', entries, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } },
      { tree: 'engine', entries: [], digest: 'sha256:ee', root: '/opt/local/engine', source: { kind: 'dir', path: 'engine' } },
    ],
    plan: { layers: [{ tree: 'app', index: 0, entries, inputKey: 'k', bytes: 1 }] },
    layers: [],
    images: [],
  };
}
