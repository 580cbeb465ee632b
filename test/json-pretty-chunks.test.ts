// `printJson` (every command's --json) writes JSON.stringify(value, null, 2) in pieces (stop 42: `diff --json` of a
// 100k-file removal was one ~20 MB string at the command's peak). The same characters, for every kind of value
// JSON.stringify treats apart, and a packed store's read-only list as `diff` hands it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList } from '../src/entries/packed-list.js';
import { jsonPrettyChunks } from '../src/util/json-pretty-chunks.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('jsonPrettyChunks', () => {
  const entries = Array.from({ length: 3000 }, (_, i) => ({ path: `a/é/${i}`, type: 'file', mode: 0o644, size: i, xxh64: i % 2 ? undefined : '0123456789abcdef', x: [1, undefined, () => 1, Symbol('s')] }));
  const packed = packedList(PackedEntries.from(Array.from({ length: 2000 }, (_, i) => ({ path: `d/${String(i).padStart(5, '0')} "q"\n`, type: 'file' as const, mode: 0o644, size: i, xxh64: 'ef46db3751d8e999' }))));

  it('gives the characters of JSON.stringify(value, null, 2), in pieces', () => {
    const values: unknown[] = [
      { before: 'b1', after: null, trees: [{ label: 'app-media', removed: packed, added: [], modified: [], files: undefined }], layers: undefined, n: 0 },
      { kind: 'build', createdAt: new Date(0), skip: undefined, fn: () => 1, sym: Symbol('x'), manifests: [{ tree: 'app', entries }], big: 2 ** 40 },
      [undefined, null, NaN, Infinity, -0, 'x"\u2028\n\u0000', { toJSON: () => ({ a: 1 }) }, { toJSON: () => undefined }, [[[]]], {}, [{}], { a: {} }],
      { keyed: { toJSON: (k: string) => `key ${k}` }, list: [{ toJSON: (k: string) => `at ${k}` }], gone: { toJSON: () => undefined }, 'ä "k"': 1 },
      Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 }),
      [new Number(3), new String('s'), new Boolean(false), new Map([[1, 2]]), new Set([1])],
      entries,
      packed,
      'plain',
      42,
      true,
      null,
      [],
      {},
    ];
    for (const v of values) {
      const pieces = [...jsonPrettyChunks(v, 2, 4096)];
      expect(pieces.join('')).toBe(JSON.stringify(v, null, 2));
      // No piece is much more than asked: the text never has to exist whole.
      for (const p of pieces) expect(p.length).toBeLessThan(4096 + 1024);
    }
    expect([...jsonPrettyChunks(packed, 2, 4096)].length).toBeGreaterThan(20);
    for (const indent of [1, 4, 10]) expect([...jsonPrettyChunks(values[0], indent, 512)].join('')).toBe(JSON.stringify(values[0], null, indent));
  });

  it('refuses what has no JSON text, and an indent JSON.stringify would change', () => {
    expect(() => [...jsonPrettyChunks(undefined)]).toThrow(/no JSON text/);
    expect(() => [...jsonPrettyChunks(() => 1)]).toThrow(/no JSON text/);
    expect(() => [...jsonPrettyChunks({}, 0)]).toThrow(/indent 0/);
    expect(() => [...jsonPrettyChunks({}, 11)]).toThrow(/indent 11/);
  });

  it('printJson writes the text and a newline to stdout (the built CLI module)', () => {
    const context = path.join(ROOT, 'dist/cli/context.js');
    expect(existsSync(context), 'run npm run build').toBe(true);
    const value = { a: [1, { b: 'é\n' }], c: undefined, d: packedList(PackedEntries.from([{ path: 'x/y', type: 'file', mode: 420, size: 0, xxh64: 'ef46db3751d8e999' }])).length };
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `const { printJson } = await import(${JSON.stringify(context)}); printJson(${JSON.stringify(value)});`], { encoding: 'utf8' });
    expect(out).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });
});
