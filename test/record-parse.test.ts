// A record read from its bytes is what JSON.parse gives, but each plan entry is its manifest entry's object: a build
// holds the previous record's entries once, not twice. Counted, not timed: distinct entry objects held. A small
// record (below wholeParse.maxBytes) is JSON.parse's whole, each entry its own object; the sharing tests lower it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRecordBytes } from '../src/state/record-parse.js';
import { readBuildRecord } from '../src/state/records.js';
import { wholeParse } from '../src/state/record-summary.js';
import { tempDir } from './support/tmp.js';

const entry = (i: number, tree = 'app') => ({ path: `${tree}/ä "odd" {n} [${String(i).padStart(6, '0')}] \\ \u2603 😀.dat`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' });

function record(n: number) {
  const app = Array.from({ length: n }, (_, i) => entry(i));
  const media = Array.from({ length: 50 }, (_, i) => entry(i, 'media'));
  // A patch layer's changed entry (other bytes than the manifest's), a marker entry no manifest holds, a layer of
  // the second platform's own manifest.
  const changed = { ...app[7]!, size: 99 };
  return {
    kind: 'build',
    schemaVersion: 1,
    game: 'g',
    version: '1.0 "quoted" }',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: ['v1', 'v1-app'],
    platforms: ['linux/amd64', 'linux/arm64'],
    manifests: [
      { tree: 'app', entries: app, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } },
      { tree: 'app-media', platform: 'linux/arm64', entries: media, digest: 'sha256:ee', root: '/m', source: { kind: 'dir', path: 'm' } },
    ],
    plan: {
      layers: [
        { tree: 'app', index: 0, entries: app.slice(0, n >> 1), inputKey: 'k0', bytes: 1, platform: 'linux/amd64' },
        { tree: 'app', index: 1, entries: app.slice(n >> 1), inputKey: 'k1', bytes: 1, platform: 'linux/amd64' },
        { tree: 'app', index: 2, entries: [app[3]!, changed, app[n - 2]!, { path: '.gamelayer-tree', type: 'file', mode: 420, size: 3 }], inputKey: 'k2', bytes: 1, patch: true, platform: 'linux/amd64' },
        { tree: 'app-media', index: 0, entries: media, inputKey: 'k3', bytes: 1, platform: 'linux/arm64' },
      ],
    },
    layers: [{ tree: 'app', index: 0, inputKey: 'k0', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: 'sha256:bb', mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
  };
}

type Entries = { entries: object[] }[];
const distinctEntries = (r: { manifests: Entries; plan: { layers: Entries } }) => new Set([...r.manifests, ...r.plan.layers].flatMap((x) => x.entries)).size;

describe('a record parsed from its bytes', () => {
  let saved: number;
  beforeEach(() => {
    saved = wholeParse.maxBytes;
    wholeParse.maxBytes = 0;
  });
  afterEach(() => {
    wholeParse.maxBytes = saved;
  });

  it('is what JSON.parse gives, key order too, with plan entries shared with the manifests', () => {
    const r = record(2000);
    const text = JSON.stringify(r);
    const parsed = parseRecordBytes(Buffer.from(text)) as ReturnType<typeof record>;
    expect(JSON.stringify(parsed)).toBe(text);
    expect(parsed).toEqual(JSON.parse(text));
    // 2000 + 50 manifest entries; the changed entry and the marker are the only others.
    expect(distinctEntries(parsed)).toBe(2052);
    expect(parsed.plan.layers[2]!.entries[1]).not.toBe(parsed.manifests[0]!.entries[7]);
    expect(parsed.plan.layers[2]!.entries[0]).toBe(parsed.manifests[0]!.entries[3]);
  });

  it('parses any other JSON as JSON.parse does, and refuses what it refuses', () => {
    for (const text of ['{}', ' {"a":1,"b":[1,2],"a":3} ', '[1,2]', '"x"', '{"manifests":{},"plan":[]}', '{"__proto__":{"x":1},"plan":{"layers":[1,{"tree":"t"}]}}']) {
      const parsed = parseRecordBytes(Buffer.from(text));
      expect(parsed).toEqual(JSON.parse(text));
      expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text)));
    }
    for (const text of ['{"a":tru}', '{"manifests":[{"entries":[1,]}]}', '{"a":1}x', '{"plan":{"layers":[{"entries":[{"path":}]}]}}', '']) {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      expect(() => parseRecordBytes(Buffer.from(text))).toThrow(SyntaxError);
    }
  });

  it('shares a layer\'s entries that are a run of its manifest\'s text, and only those', () => {
    const r = record(300);
    const app = r.manifests[0]!.entries;
    const lastChanged = [...app.slice(10, 20), { ...app[20]!, size: 7 }];
    r.plan.layers = [
      { tree: 'app', index: 0, entries: app, inputKey: 'a', bytes: 1, platform: 'linux/amd64' },
      { tree: 'app', index: 1, entries: app.slice(100, 200), inputKey: 'b', bytes: 1, platform: 'linux/amd64' },
      { tree: 'app', index: 2, entries: lastChanged, inputKey: 'c', bytes: 1, platform: 'linux/amd64' },
      { tree: 'app', index: 3, entries: [app[5]!, app[4]!], inputKey: 'd', bytes: 1, platform: 'linux/amd64' },
    ];
    // Indented, a layer's entries are other bytes than its manifest's (deeper): parsed, none shared.
    const indented = JSON.stringify(r, null, 1);
    expect(parseRecordBytes(Buffer.from(indented))).toEqual(JSON.parse(indented));
    {
      const text = JSON.stringify(r);
      const parsed = parseRecordBytes(Buffer.from(text)) as ReturnType<typeof record>;
      expect(parsed).toEqual(JSON.parse(text));
      const [whole, middle, changed, swapped] = parsed.plan.layers.map((l) => l.entries);
      const m = parsed.manifests[0]!.entries;
      expect(whole).not.toBe(m);
      expect(whole!.every((e, i) => e === m[i])).toBe(true);
      expect(middle!.every((e, i) => e === m[100 + i])).toBe(true);
      expect(changed!.slice(0, 10).every((e, i) => e === m[10 + i])).toBe(true);
      expect(changed![10]).not.toBe(m[20]);
      expect(swapped![0]).toBe(m[5]);
      expect(swapped![1]).toBe(m[4]);
    }
    const broken = '{"manifests":[{"tree":"t","entries":[{"path":"a"},{"path":"b"}]}],"plan":{"layers":[{"tree":"t","entries":[{"path":"a"},]}]}}';
    expect(() => parseRecordBytes(Buffer.from(broken))).toThrow(SyntaxError);
  });

  it('readBuildRecord holds each entry once', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'records'));
    const file = path.join(dir, 'records', 'build-last.json');
    const r = record(5000);
    await writeFile(file, JSON.stringify(r));
    const read = await readBuildRecord(file);
    expect(distinctEntries(read as unknown as Parameters<typeof distinctEntries>[0])).toBe(5052);
    const { kind: _k, ...rest } = r;
    expect({ ...read }).toEqual({ ...rest, kind: 'build' });
  });
});

describe('a small record parsed from its bytes', () => {
  it('is JSON.parse of it whole below wholeParse.maxBytes (no entry shared), the walk above', async () => {
    const text = JSON.stringify(record(2000));
    expect(text.length).toBeLessThan(wholeParse.maxBytes);
    const whole = parseRecordBytes(Buffer.from(text)) as ReturnType<typeof record>;
    expect(JSON.stringify(whole)).toBe(text);
    // Manifests 2000 + 50, plan layers 1000 + 1000 + 4 + 50: each an object of its own.
    expect(distinctEntries(whole)).toBe(4104);
    const saved = wholeParse.maxBytes;
    wholeParse.maxBytes = text.length;
    try {
      expect(distinctEntries(parseRecordBytes(Buffer.from(text)) as ReturnType<typeof record>)).toBe(2052);
    } finally {
      wholeParse.maxBytes = saved;
    }
  });
});
