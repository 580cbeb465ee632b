// A large record (read a MiB at a time, util/json-tokens.ts) of valid JSON nested 200,000 deep was refused as "not
// valid JSON (truncated or corrupt record)": the user looked for damage `jq` does not see. It is refused as nested
// too deep, with the limit and the file.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRecord } from '../src/state/records.js';
import { readBuildSummary } from '../src/state/record-summary.js';
import { readRecordTotals } from '../src/state/record-totals.js';
import { recordStream } from '../src/state/record-file.js';
import { tempDir } from './support/tmp.js';

const entry = { path: 'a.dat', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' };

/** A build record with a member holding `depth` nested lists. */
function deepRecord(depth: number): string {
  const r = {
    schemaVersion: 1, game: 'g', version: '1', createdAt: '2026-12-05T00:00:00.000Z', tags: ['v1'], platforms: ['linux/amd64'], deep: 0,
    manifests: [{ tree: 'app', entries: [entry], digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries: [entry], inputKey: 'k', bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey: 'k', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: 'sha256:bb', mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [{ digest: 'sha256:aa', size: 3 }] }],
    kind: 'build',
  };
  return JSON.stringify(r).replace('"deep":0', `"deep":${'['.repeat(depth)}${']'.repeat(depth)}`);
}

const saved = recordStream.minBytes;
afterEach(() => {
  recordStream.minBytes = saved;
});

describe('a large record nested too deep', () => {
  it('is refused as nested too deep, naming the file and the limit, by every reader of large records', async () => {
    const file = path.join(await tempDir(), 'build-deep.json');
    const text = deepRecord(200_000);
    JSON.parse(text); // valid JSON
    await writeFile(file, text);
    // Read as a large record (a MiB at a time), as a 32 MiB one is.
    recordStream.minBytes = 1024;
    const deep = { code: 'record.corrupt', message: expect.stringMatching(new RegExp(`^${file}: not a gamelayer record: its JSON nests deeper than 4096 levels \\(at byte \\d+\\)`)) };
    await expect(readRecord(file)).rejects.toMatchObject(deep);
    await expect(readBuildSummary(file)).rejects.toMatchObject(deep);
    await expect(readRecordTotals(file)).rejects.toMatchObject(deep);
  });

  it('damaged bytes are still "not valid JSON"', async () => {
    const file = path.join(await tempDir(), 'build-cut.json');
    const text = deepRecord(3);
    await writeFile(file, text.slice(0, -40));
    recordStream.minBytes = 1024;
    await expect(readRecord(file)).rejects.toThrow(`${file}: not valid JSON (truncated or corrupt record)`);
  });
});
