// The zstd feed's slots lie in shared memories with an xxh64 instance of their own, so the files read into them are
// hashed where they lie (scan/xxh64-shared.ts). Every file hash in the stat cache, the manifests and the layer checks
// is xxhash-wasm's: the hash must be the same whatever memory the bytes lie in and however they are cut.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { createXxh64 } from '../src/scan/hash.js';
import { XXHASH_WASM } from '../src/scan/xxh64-module.js';
import { createXxh64InPlace, sharedXxhMemory, withImportedMemory, xxh64Once, XXH_RESERVED } from '../src/scan/xxh64-shared.js';

describe('xxh64 where the bytes lie', () => {
  it('runs xxhash-wasm 1.1.0\'s own module, with its memory imported', () => {
    // The package's main file lies in cjs/; its wasm file beside, in workerd/.
    const pkg = path.dirname(path.dirname(createRequire(import.meta.url).resolve('xxhash-wasm')));
    const original = readFileSync(path.join(pkg, 'workerd/xxhash.wasm'));
    expect(Buffer.from(XXHASH_WASM, 'base64').equals(original)).toBe(true);
    const m = new WebAssembly.Module(withImportedMemory(original));
    expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(m).map((e) => e.name)).toEqual(['mem', 'xxh32', 'init32', 'update32', 'digest32', 'xxh64', 'init64', 'update64', 'digest64']);
  });

  it('gives xxhash-wasm\'s hash for bytes in a slot memory, in other memory and in both, cut anywhere', async () => {
    const api = await xxhash();
    const memory = sharedXxhMemory(8 << 20);
    for (const size of [0, 1, 31, 32, 33, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 17, (3 << 20) + 5]) {
      const data = randomBytes(size);
      const inSlot = Buffer.from(memory.buffer, XXH_RESERVED + 3, size);
      inSlot.set(data);
      const want = api.create64().update(data).digest();
      const cuts = [0, ...Array.from({ length: 5 }, () => Math.floor(Math.random() * size)), size].sort((a, b) => a - b);
      for (const source of ['slot', 'heap', 'mixed'] as const) {
        const h = createXxh64InPlace();
        cuts.slice(1).forEach((end, i) => {
          const from = cuts[i]!;
          const slot = source === 'slot' || (source === 'mixed' && i % 2 === 0);
          h.update((slot ? inSlot : data).subarray(from, end));
        });
        expect(h.digest(), `${size} bytes from ${source}`).toBe(want);
      }
      expect(xxh64Once(inSlot), `${size} bytes at once, in a slot`).toBe(want);
      expect(xxh64Once(data), `${size} bytes at once`).toBe(want);
    }
    // The hasher's own first page of a slot memory is not taken for bytes to hash in place: copied, the same hash.
    const low = new Uint8Array(memory.buffer, 0, 100);
    const h = createXxh64InPlace();
    h.update(low);
    expect(h.digest()).toBe(api.create64().update(Uint8Array.from(low)).digest());
  });

  it('is what createXxh64 gives, hex as before', async () => {
    const api = await xxhash();
    const data = randomBytes(5000);
    const h = await createXxh64();
    h.update(data.subarray(0, 100));
    h.update(data.subarray(100));
    expect(h.digest()).toBe(api.create64().update(data).digest().toString(16).padStart(16, '0'));
    expect((await createXxh64()).digest()).toBe('ef46db3751d8e999');
  });
});
