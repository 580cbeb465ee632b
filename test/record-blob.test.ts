// The record blob a push makes: the same bytes as the one-string maker (buildRecordArtifact), reused when a read
// blob holds the same JSON, and made without the record's JSON ever being one string. Counted, not timed: the
// longest text JSON.stringify hands back while the artifact is made is a piece, not the record (about 7 MB here).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildRecordArtifact, streamRecordArtifact, wholeRecord } from '../src/registry/artifact.js';
import { noteInflated } from '../src/registry/record-blob.js';
import { buildRecordSchema, treeManifestSchema, type BuildRecord, type Descriptor, type FileEntry } from '../src/types.js';

const ENTRIES = 60_000;
const subject: Descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'e'.repeat(64)}`, size: 500 };

function bigRecord(version: string, ENTRIES = 60_000): BuildRecord {
  // Names with multi-byte characters too: pieces are cut in characters, the blob holds UTF-8.
  const entries: FileEntry[] = Array.from({ length: ENTRIES }, (_, i) => ({ path: `assets/dir${i % 97}/fichier-é-${i}.dat`, type: 'file', mode: 0o644, size: i, xxh64: (i * 2654435761).toString(16).padStart(16, '0').slice(-16) }));
  return {
    schemaVersion: 1,
    game: 'my-game',
    version,
    createdAt: '2026-01-01T00:00:00.000Z',
    tags: ['v1', 'v1-app'],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', root: '/src/app', source: { kind: 'dir', path: '/src/app' }, entries, digest: `sha256:${'a'.repeat(64)}` }],
    plan: { layers: [{ tree: 'app', index: 0, entries, inputKey: `sha256:${'b'.repeat(64)}`, bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey: `sha256:${'b'.repeat(64)}`, diffID: `sha256:${'c'.repeat(64)}`, digest: `sha256:${'d'.repeat(64)}`, size: 100, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: subject.digest, mediaType: subject.mediaType }],
  };
}

afterEach(() => vi.restoreAllMocks());

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the record artifact a push makes', () => {
  const record = bigRecord('1.0.0');

  it('has the bytes of the one-string maker, for every encoding', async () => {
    for (const encoding of [0, 2]) {
      const streamed = await streamRecordArtifact(record, subject, encoding);
      const whole = buildRecordArtifact(record, subject, encoding);
      expect(streamed.record.equals(whole.record)).toBe(true);
      expect(streamed.recordDescriptor).toEqual(whole.recordDescriptor);
      expect(streamed.manifest.equals(whole.manifest)).toBe(true);
      expect(streamed.descriptor).toEqual(whole.descriptor);
    }
  });

  it('reuses a read blob holding the same JSON, and no other', async () => {
    const read = buildRecordArtifact(record, subject).record;
    // Other bytes of the same JSON (another compression level) are still this record.
    const other = gzipSync(JSON.stringify(buildRecordArtifactContent(record)), { level: 1 });
    expect((await streamRecordArtifact(record, subject, 0, other)).record === other).toBe(true);
    expect((await streamRecordArtifact(record, subject, 0, read)).record === read).toBe(true);
    const elsewhere = buildRecordArtifact(bigRecord('1.0.1'), subject).record;
    const made = await streamRecordArtifact(record, subject, 0, elsewhere);
    expect(made.record === elsewhere).toBe(false);
    expect(made.record.equals(read)).toBe(true);
    const truncated = read.subarray(0, read.length >> 1);
    expect((await streamRecordArtifact(record, subject, 0, truncated)).record.equals(read)).toBe(true);
  });

  it('checks a blob read as the previous record against what it was noted to inflate to, not inflating it again', async () => {
    const json = Buffer.from(JSON.stringify(buildRecordArtifactContent(record)));
    const read = gzipSync(json, { level: 1 });
    noteInflated(read, json);
    expect((await streamRecordArtifact(record, subject, 0, read)).record === read).toBe(true);
    // The note is what is compared: a blob noted as other JSON is not reused, though its bytes would inflate to this.
    const misnoted = gzipSync(json, { level: 1 });
    noteInflated(misnoted, Buffer.from(JSON.stringify(buildRecordArtifactContent(bigRecord('1.0.1')))));
    const made = await streamRecordArtifact(record, subject, 0, misnoted);
    expect(made.record === misnoted).toBe(false);
    expect(made.record.equals(buildRecordArtifact(record, subject).record)).toBe(true);
  });

  it('never holds the record as one JSON string', async () => {
    const whole = JSON.stringify(buildRecordArtifactContent(record)).length;
    expect(whole).toBeGreaterThan(5_000_000);
    const reused = buildRecordArtifact(record, subject).record;
    let longest = 0;
    const stringify = JSON.stringify;
    vi.spyOn(JSON, 'stringify').mockImplementation((...args: Parameters<typeof JSON.stringify>) => {
      const s = stringify(...args);
      longest = Math.max(longest, s?.length ?? 0);
      return s;
    });
    await streamRecordArtifact(record, subject);
    await streamRecordArtifact(record, subject, 0, reused);
    await streamRecordArtifact(record, subject, 3);
    expect(longest).toBeLessThan(256 * 1024);
  });
});

describe('a small record\'s artifact (fewer than wholeRecord.maxEntries entries: made as one string)', () => {
  const record = bigRecord('1.0.0', 300);

  it('has the streamed maker\'s bytes, reuses what it reuses, and is made as one string', async () => {
    const read = buildRecordArtifact(record, subject).record;
    const other = gzipSync(JSON.stringify(buildRecordArtifactContent(record)), { level: 1 });
    const elsewhere = buildRecordArtifact(bigRecord('1.0.1', 300), subject).record;
    const make = async () => {
      const out: Buffer[] = [];
      for (const encoding of [0, 2]) out.push((await streamRecordArtifact(record, subject, encoding)).record);
      for (const reuse of [read, other, elsewhere, read.subarray(0, read.length >> 1)]) out.push((await streamRecordArtifact(record, subject, 0, reuse)).record);
      return out;
    };
    let longest = 0;
    const stringify = JSON.stringify;
    const spy = vi.spyOn(JSON, 'stringify').mockImplementation((...args: Parameters<typeof JSON.stringify>) => {
      const s = stringify(...args);
      longest = Math.max(longest, s?.length ?? 0);
      return s;
    });
    const whole = await make();
    expect(longest).toBe(stringify(buildRecordArtifactContent(record)).length);
    spy.mockRestore();
    const saved = wholeRecord.maxEntries;
    wholeRecord.maxEntries = 0;
    try {
      const streamed = await make();
      expect(whole.map(digest)).toEqual(streamed.map(digest));
    } finally {
      wholeRecord.maxEntries = saved;
    }
    expect(whole[2]).toBe(read);
    expect(whole[3]).toBe(other);
    expect(whole[4]!.equals(read)).toBe(true);
    expect(whole[5]!.equals(read)).toBe(true);
  });
});

/** What the record blob holds: the record but its tags, time and provenance, and no source path of the build host. */
function buildRecordArtifactContent(r: BuildRecord): unknown {
  const { tags: _t, createdAt: _c, codebuildArn: _a, revision: _r, sourceUrl: _s, previous: _p, ...content } = r;
  // Keys in the schema's order, as a record read back from a file has them.
  const ordered = <T extends object>(v: T, keys: string[]) => Object.fromEntries(keys.filter((k) => k in v).map((k) => [k, (v as Record<string, unknown>)[k]]));
  const manifests = content.manifests.map((m) => ordered({ ...m, root: '', source: { ...m.source, path: '' } }, Object.keys(treeManifestSchema.shape)));
  return ordered({ ...content, manifests }, Object.keys(buildRecordSchema.shape));
}
