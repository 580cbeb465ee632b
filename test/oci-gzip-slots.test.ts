// The gzip pool's shared slots (issue 17): blocks are copied into input slots the workers read and answered in
// output slots they write, both reused block after block. Streams that share the pool at once, blocks bigger than a
// default slot, and results that do not fit their slot must all give the bytes of the single-thread path.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { compressBlock, compressBlockInto, storedBlocks, storedSize } from '../src/oci/gzip-block.js';
import { closeGzipWorkers, createParallelGzip } from '../src/oci/gzip.js';
import { noise } from './support/oci-fixtures.js';

afterAll(closeGzipWorkers);

async function gz(input: Buffer, opts: Parameters<typeof createParallelGzip>[0]): Promise<Buffer> {
  const out: Buffer[] = [];
  const chunks = function* () {
    for (let i = 0; i < input.length; i += 300_001) yield input.subarray(i, i + 300_001);
  };
  await pipeline(Readable.from(chunks()), createParallelGzip(opts), async function* (src) {
    for await (const c of src) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

const text = (seed: string) => Buffer.from(`${seed} entity_spawn 1 2 3; model props/crate.mdl\n`.repeat(60_000));

describe('gzip pool slots', () => {
  it('streams sharing the workers at once, each with its own content, give the single-thread bytes', async () => {
    const inputs = [0, 1, 2, 3].map((i) => Buffer.concat([text(`s${i}`), noise(2 << 20, `n${i}`), text(`t${i}`).subarray(0, 777_777)]));
    const alone = await Promise.all(inputs.map((x) => gz(x, { threads: 0 })));
    // All four at once on 2 workers: slots are taken, released and reused across streams while others wait.
    const shared = await Promise.all(inputs.map((x) => gz(x, { threads: 2 })));
    for (let i = 0; i < inputs.length; i++) expect(shared[i]!.equals(alone[i]!)).toBe(true);
    // Run again: now every slot is one a block of another stream used before.
    const again = await Promise.all(inputs.map((x) => gz(x, { threads: 2 })));
    for (let i = 0; i < inputs.length; i++) expect(again[i]!.equals(alone[i]!)).toBe(true);
  });

  it('blocks bigger than a default slot get slots of their size', async () => {
    const input = Buffer.concat([noise(5 << 20, 'big'), text('big')]);
    const blockSize = 3 << 20;
    expect((await gz(input, { threads: 2, blockSize })).equals(await gz(input, { threads: 0, blockSize }))).toBe(true);
  });

  it('a result that does not fit its output slot comes back as its own buffer, same bytes', () => {
    const block = noise(200_000, 'fit');
    const small = new Uint8Array(1000);
    const r = compressBlockInto(block, undefined, 1, true, small);
    expect(typeof r).not.toBe('number');
    expect(Buffer.from(r as Buffer).equals(compressBlock(block, undefined, 1, true))).toBe(true);
    const room = new Uint8Array(storedSize(block.length));
    const n = compressBlockInto(block, undefined, 1, false, room);
    expect(n).toBe(storedSize(block.length));
    expect(Buffer.from(room.subarray(0, n as number)).equals(storedBlocks(block, false))).toBe(true);
  });
});
