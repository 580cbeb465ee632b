// Candidate chunk lists checked against a file's bytes in one pass (src/scan/list-check.ts): the lists that are the
// file's match, whatever the block sizes; each byte range they name is hashed once however many lists name it; a
// list that does not match stops costing at its first wrong chunk, and the read may stop once none can match.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hex64, xxhashApi, type XxhashApi } from '../src/scan/hash.js';
import { ListsCheck, type CheckedList } from '../src/scan/list-check.js';

const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251));

function listOf(data: Buffer, sizes: number[], x: XxhashApi): CheckedList {
  let at = 0;
  const chunks = sizes.map((size) => {
    const part = data.subarray(at, at + size);
    at += size;
    return { size, sha256: createHash('sha256').update(part).digest('hex'), xxh64: hex64(x.h64Raw(part)) };
  });
  return { size: data.length, sha256: createHash('sha256').update(data).digest('hex'), chunks };
}

/** The api with the bytes fed to its streaming hashers counted. */
function counting(x: XxhashApi): { api: XxhashApi; fed: () => number } {
  let n = 0;
  const api = {
    ...x,
    create64: () => {
      const h = x.create64();
      return {
        update: (b: Uint8Array) => ((n += b.length), h.update(b)),
        digest: () => h.digest(),
      };
    },
  } as unknown as XxhashApi;
  return { api, fed: () => n };
}

function run(lists: CheckedList[], api: XxhashApi, block: number): ListsCheck<CheckedList> {
  const check = new ListsCheck(lists, api);
  for (let at = 0; at < bytes.length; at += block) check.update(bytes.subarray(at, at + block));
  return check;
}

describe('ListsCheck', () => {
  it('matches the lists of the bytes, in any block size; refuses a wrong chunk, a wrong whole sha256, a short or long list', async () => {
    const x = await xxhashApi();
    const good = listOf(bytes, [300, 200, 500], x);
    const other = listOf(bytes, [100, 900], x);
    const swapped: CheckedList = { ...good, chunks: [good.chunks[1]!, good.chunks[0]!, good.chunks[2]!] };
    const wholeWrong: CheckedList = { ...good, sha256: '0'.repeat(64) };
    const short: CheckedList = { ...good, size: 500, chunks: good.chunks.slice(0, 2) };
    const long: CheckedList = { ...good, size: 1500, chunks: [...good.chunks, good.chunks[2]!] };
    const empty: CheckedList = { ...good, chunks: [{ ...good.chunks[0]!, size: 0 }, ...good.chunks] };
    for (const block of [1, 7, 300, 4096]) {
      expect(run([good, swapped, other, wholeWrong, short, long, empty], x, block).matched()).toEqual([good, other]);
    }
  });

  it('hashes a range once for every list naming it; a list out of the race costs nothing more', async () => {
    const x = await xxhashApi();
    const good = listOf(bytes, [300, 200, 500], x);
    const same = listOf(bytes, [300, 200, 500], x);
    // A version of the file that differs in its last chunk only: the first two ranges are shared.
    const changed = Buffer.from(bytes);
    changed[900] = changed[900]! ^ 1;
    const version = listOf(changed, [300, 200, 500], x);
    const c = counting(x);
    expect(run([good, same, version], c.api, 64).matched()).toEqual([good, same]);
    expect(c.fed()).toBe(bytes.length);
    // A list wrong from its first chunk: once it is out and no other list is left, nothing more is hashed.
    const wrong = listOf(changed.subarray(0, 1000), [1000], x);
    const d = counting(x);
    const check = new ListsCheck([{ ...wrong, chunks: [{ ...wrong.chunks[0]!, size: 10 }, { ...wrong.chunks[0]!, size: 990 }] }], d.api);
    check.update(bytes.subarray(0, 64));
    expect(check.alive).toBe(false);
    check.update(bytes.subarray(64));
    expect(d.fed()).toBe(10);
  });
});
