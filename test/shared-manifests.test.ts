// An unchanged tree's manifest is held once (src/pipeline/shared-manifests.ts): the previous record's packed list is
// replaced by the scan's only when every entry is the same, compared on the stores' columns; a record that names the
// scan's digest but lists other entries keeps its own.
import { describe, expect, it } from 'vitest';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList, packedStoreOf } from '../src/entries/packed-list.js';
import { sameStoreEntries, shareScannedManifests } from '../src/pipeline/shared-manifests.js';
import { entriesDigest } from '../src/scan/manifest.js';
import type { BuildRecord, FileEntry, TreeManifest } from '../src/types.js';
import { EMPTY_XXH64, ODD_ENTRIES } from './support/odd-entries.js';

const EMPTY = EMPTY_XXH64;
const ENTRIES: FileEntry[] = [...ODD_ENTRIES];

const packed = (entries: FileEntry[]) => packedList(PackedEntries.from(entries));

function manifest(entries: FileEntry[], over: Partial<TreeManifest> = {}): TreeManifest {
  return { tree: 'app-media', entries, digest: entriesDigest(entries), root: '/m', source: { kind: 'dir', path: 'm' }, ...over } as TreeManifest;
}

function recordOf(m: TreeManifest, patch: FileEntry[] = []): Pick<BuildRecord, 'manifests' | 'plan'> {
  return {
    manifests: [m],
    plan: {
      layers: [
        { tree: m.tree, index: 0, entries: m.entries, inputKey: 'k0', bytes: 0 },
        { tree: m.tree, index: 1, entries: patch, inputKey: 'k1', bytes: 0, patch: true },
      ],
    },
  };
}

describe('a previous manifest equal to the scan', () => {
  it('is replaced by the scan\'s list, and so is a plan layer that was that list', () => {
    const scanned = manifest(packed(ENTRIES));
    const prev = manifest(packed(ENTRIES));
    const patch = [ENTRIES[2]!];
    const record = recordOf(prev, patch);
    expect(shareScannedManifests(record, [scanned])).toBe(1);
    expect(record.manifests[0]!.entries).toBe(scanned.entries);
    expect(record.plan.layers[0]!.entries).toBe(scanned.entries);
    expect(record.plan.layers[1]!.entries).toBe(patch);
    // Again: the same list already, nothing to do.
    expect(shareScannedManifests(record, [scanned])).toBe(0);
  });

  it('is kept when one entry differs in any field, though the record names the scan\'s digest', () => {
    const changes: ((e: FileEntry[]) => void)[] = [
      (e) => (e[2] = { ...e[2]!, xxh64: '0000000000000001' }),
      (e) => (e[3] = { ...e[3]!, mode: 420 }),
      (e) => (e[3] = { ...e[3]!, size: 13 }),
      (e) => (e[4] = { ...e[4]!, linkTarget: '../u "x"' }),
      (e) => (e[5] = { ...e[5]!, xxh64: 'not-a-hex-hasH' }),
      (e) => (e[6] = { ...e[6]!, path: 'ü/日木' }),
      // The same text split at another folder: "a/bc" in a/ against "a/b" + "c".
      (e) => (e[3] = { ...e[3]!, path: 'a/b/c' }) && (e[2] = { ...e[2]!, path: 'a/bc' }),
      (e) => e.pop(),
      (e) => (e[1] = { ...e[1]!, type: 'file', xxh64: EMPTY }),
    ];
    for (const [i, change] of changes.entries()) {
      const other = ENTRIES.map((e) => ({ ...e }));
      change(other);
      const scanned = manifest(packed(ENTRIES));
      const prev = manifest(packed(other), { digest: scanned.digest });
      const own = prev.entries;
      expect(shareScannedManifests(recordOf(prev), [scanned]), `change ${i}`).toBe(0);
      expect(prev.entries, `change ${i}`).toBe(own);
      expect(sameStoreEntries(packedStoreOf(own)!, packedStoreOf(scanned.entries)!), `change ${i}`).toBe(false);
    }
  });

  it('is kept when another digest, tree or platform is named, or either list is objects', () => {
    const scanned = manifest(packed(ENTRIES));
    for (const prev of [
      manifest(packed(ENTRIES), { digest: 'sha256:other' }),
      manifest(packed(ENTRIES), { tree: 'app' }),
      manifest(packed(ENTRIES), { platform: 'linux/arm64' }),
      manifest(ENTRIES.map((e) => ({ ...e }))),
    ]) {
      const own = prev.entries;
      expect(shareScannedManifests(recordOf(prev), [scanned])).toBe(0);
      expect(prev.entries).toBe(own);
    }
    const prev = manifest(packed(ENTRIES));
    expect(shareScannedManifests(recordOf(prev), [manifest(ENTRIES)])).toBe(0);
  });
});
