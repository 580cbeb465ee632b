// Chunk lists read back from a build record (src/chunk/record-lists.ts): a list is taken only when it makes, byte for
// byte, the recipe the previous build shipped; anything else (a wrong, unknown or ambiguous chunk, another file
// sha256, no recipe entry, another chunk size) gives no list, and the file is chunked again.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkLengths } from '../src/chunk/fastcdc.js';
import { chunkPath, formatRecipe, recipePath } from '../src/chunk/recipe.js';
import { recordChunkLists, recordRecipe, type ListedFile, type ManifestWithRecipes } from '../src/chunk/record-lists.js';
import { hex64, xxhashApi } from '../src/scan/hash.js';
import { prng } from './support/prng.js';

const AVG = 64 * 1024;


async function setup() {
  const api = await xxhashApi();
  const x = (b: Uint8Array) => hex64(api.h64Raw(b));
  const data = prng('file', 1024 * 1024 + 7);
  let offset = 0;
  const chunks = chunkLengths(data, AVG).map((size) => {
    const bytes = data.subarray(offset, offset + size);
    const c = { sha256: createHash('sha256').update(bytes).digest('hex'), xxh64: x(bytes), size, offset };
    offset += size;
    return c;
  });
  const list: ListedFile = { size: data.length, xxh64: x(data), sha256: createHash('sha256').update(data).digest('hex'), chunks };
  const recipe = Buffer.from(formatRecipe({ size: list.size, mode: 0o755, sha256: list.sha256, xxh64: list.xxh64, chunks: chunks.map((c) => ({ sha256: c.sha256, size: c.size })) }));
  const manifest: ManifestWithRecipes = {
    tree: 'app-media',
    chunks: { avgChunkSize: AVG },
    entries: [
      ...chunks.map((c) => ({ path: chunkPath(c.sha256), type: 'file', size: c.size, xxh64: c.xxh64 })),
      { path: recipePath('paks/a.pak'), type: 'file', size: recipe.length, xxh64: x(recipe) },
    ],
    recipes: [recordRecipe('paks/a.pak', list)],
  };
  return { list, manifest, lists: (m: ManifestWithRecipes, avg = AVG) => recordChunkLists([m], 'app-media', avg, (b) => x(b)) };
}

describe('chunk lists from a build record', () => {
  it('gives back the list of a file it knows, by size and xxh64, 16 hex digits a chunk in the record', async () => {
    const { list, manifest, lists } = await setup();
    expect(list.chunks.length).toBeGreaterThan(5);
    expect(manifest.recipes![0]!.chunks).toHaveLength(16 * list.chunks.length);
    const l = lists(manifest);
    expect([...l.sizes]).toEqual([list.size]);
    expect(l.find(list.size, list.xxh64)).toEqual(list);
    expect(l.find(list.size, '0'.repeat(16))).toBeUndefined();
    expect(lists(manifest, AVG * 2).sizes.size).toBe(0);
    expect(recordChunkLists([manifest], 'app', AVG, () => '').sizes.size).toBe(0);
  });

  const damage: [string, (m: ManifestWithRecipes) => ManifestWithRecipes][] = [
    ['two chunks swapped (the sizes may still add up)', (m) => {
      const r = m.recipes![0]!;
      return { ...m, recipes: [{ ...r, chunks: r.chunks.slice(16, 32) + r.chunks.slice(0, 16) + r.chunks.slice(32) }] };
    }],
    ['a chunk no entry has', (m) => {
      const r = m.recipes![0]!;
      return { ...m, recipes: [{ ...r, chunks: `${'f'.repeat(16)}${r.chunks.slice(16)}` }] };
    }],
    ['a prefix two chunk entries share', (m) => {
      const first = m.entries[0]!;
      const twin = `${first.path.slice(first.path.lastIndexOf('/') + 1, first.path.lastIndexOf('/') + 17)}${'0'.repeat(48)}`;
      return { ...m, entries: [...m.entries, { ...first, path: chunkPath(twin) }] };
    }],
    ["another file sha256 (the shipped recipe's differs)", (m) => ({ ...m, recipes: [{ ...m.recipes![0]!, sha256: 'ab'.repeat(32) }] })],
    ['no recipe entry for its path', (m) => ({ ...m, recipes: [{ ...m.recipes![0]!, path: 'paks/other.pak' }] })],
    ['a list cut short', (m) => ({ ...m, recipes: [{ ...m.recipes![0]!, chunks: m.recipes![0]!.chunks.slice(0, -16) }] })],
  ];
  for (const [label, edit] of damage) {
    it(`gives no list for ${label}`, async () => {
      const { list, manifest, lists } = await setup();
      expect(lists(edit(manifest)).find(list.size, list.xxh64)).toBeUndefined();
    });
  }
});
