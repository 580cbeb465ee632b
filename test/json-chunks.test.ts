import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../src/util/json-chunks.js';

describe('jsonChunks', () => {
  it('gives the characters of JSON.stringify, in pieces', () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `a/é/${i}`, type: 'file', mode: 0o644, size: i, xxh64: i % 2 ? undefined : '0123456789abcdef', x: [1, undefined, () => 1] }));
    const values: unknown[] = [
      { kind: 'build', schemaVersion: 1, createdAt: new Date(0), skip: undefined, fn: () => 1, manifests: [{ tree: 'app', entries }], plan: { layers: [{ entries, bytes: 2 ** 40 }] } },
      [undefined, null, NaN, Infinity, -0, 'x"\u2028\n', { toJSON: () => ({ a: 1 }) }, [[[]]], {}],
      entries,
      'plain',
      42,
      null,
    ];
    for (const v of values) {
      const pieces = [...jsonChunks(v, 4096)];
      expect(pieces.join('')).toBe(JSON.stringify(v));
      // No piece is more than asked plus one batch of 1024 items: the text never has to exist whole.
      for (const p of pieces) expect(p.length).toBeLessThan(4096 + 1024 * 120);
    }
    expect([...jsonChunks(entries, 4096)].length).toBeGreaterThan(2);
    expect([...jsonChunks({ a: [entries, entries] }, 4096)].length).toBeGreaterThan(5);
  });
});
