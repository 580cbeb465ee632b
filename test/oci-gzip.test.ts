import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { closeGzipWorkers, createDigestingGzip, createParallelGzip, gzipCompressorId } from '../src/oci/gzip.js';
import { zstdCompressorId } from '../src/oci/zstd.js';
import { createZstd } from '../src/oci/zstd-stream.js';
import { noise } from './support/oci-fixtures.js';

afterAll(closeGzipWorkers);

async function run(input: Buffer, make: () => NodeJS.ReadWriteStream): Promise<Buffer> {
  const out: Buffer[] = [];
  // Feed in odd-sized chunks so block cutting is exercised.
  const chunks = function* () {
    for (let i = 0; i < input.length; i += 77_777) yield input.subarray(i, i + 77_777);
  };
  await pipeline(Readable.from(chunks()), make(), async function* (src) {
    for await (const c of src) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

// Text-like (compressible), then already-compressed noise, then text again: ~7 MB, several blocks.
const text = Buffer.from('player_spawn origin 100 200 300; weapon_give rifle ammo 90\n'.repeat(40_000));
const input = Buffer.concat([text, noise(3 << 20, 'pak'), text.subarray(0, 1_000_001)]);

describe('parallel gzip', () => {
  it('gives the same bytes with 0, 1, 2 and 4 threads, and gunzip/zcat restore the input', async () => {
    const outs = [];
    for (const threads of [0, 1, 2, 4]) outs.push(await run(input, () => createParallelGzip({ threads })));
    for (const o of outs.slice(1)) expect(o.equals(outs[0]!)).toBe(true);
    const gz = outs[0]!;
    expect(gz.subarray(0, 10).toString('hex')).toBe('1f8b08000000000000ff');
    expect(execFileSync('gunzip', ['-c'], { input: gz, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    expect(execFileSync('zcat', { input: gz, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    execFileSync('gzip', ['-t'], { input: gz });
    // The noise went out as stored blocks (≈ its own size), the text shrank a lot.
    expect(gz.length).toBeGreaterThan(3 << 20);
    expect(gz.length).toBeLessThan((3 << 20) + 300_000);
  });

  it('handles empty input and input of exactly one block', async () => {
    for (const data of [Buffer.alloc(0), Buffer.alloc(1 << 20, 7), noise(1 << 20)]) {
      const gz = await run(data, () => createParallelGzip({ threads: 2 }));
      expect(execFileSync('gunzip', ['-c'], { input: gz, maxBuffer: 64 << 20 }).equals(data)).toBe(true);
    }
  });

  it('with its digests (a layer\'s diffID, taken in a pool worker) gives the same bytes, and the sha256 and size of its input', async () => {
    const plain = await run(input, () => createParallelGzip({ threads: 2 }));
    const want = `sha256:${createHash('sha256').update(input).digest('hex')}`;
    for (const threads of [0, 1, 2]) {
      let told = 0;
      const gz = createDigestingGzip({ threads }, (n) => (told += n));
      expect((await run(input, () => gz)).equals(plain)).toBe(true);
      expect(gz.input).toEqual({ digest: want, bytes: input.length });
      expect(told).toBe(input.length);
    }
    // Two streams at once, their digests kept by the same pool worker, keep their own; so does an empty one.
    const other = noise(3 << 20, 'other');
    const [a, b, e] = [createDigestingGzip({ threads: 2 }), createDigestingGzip({ threads: 2 }), createDigestingGzip({ threads: 2 })];
    await Promise.all([run(input, () => a), run(other, () => b), run(Buffer.alloc(0), () => e)]);
    expect(a.input?.digest).toBe(want);
    expect(b.input?.digest).toBe(`sha256:${createHash('sha256').update(other).digest('hex')}`);
    expect(e.input).toEqual({ digest: `sha256:${createHash('sha256').digest('hex')}`, bytes: 0 });
  });

  it('names its settings for the layer cache key', () => {
    expect(gzipCompressorId()).toMatch(/level=1 block=1048576 .*zlib=\d/);
    expect(gzipCompressorId({ level: 6 })).not.toBe(gzipCompressorId());
  });
});

describe('zstd', () => {
  it('is deterministic across runs and decodes with zstd -d', async () => {
    const a = await run(input, () => createZstd());
    const b = await run(input, () => createZstd());
    expect(b.equals(a)).toBe(true);
    expect(a.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(execFileSync('zstd', ['-d', '-c'], { input: a, maxBuffer: 64 << 20 }).equals(input)).toBe(true);
    // Format 2 (raw frames for random runs): layers of format 1 are rebuilt once.
    expect(await zstdCompressorId()).toMatch(/^gamelayer-zstd\/2 zstd v\d+\.\d+\.\d+ -1 -T0 .* raw-runs=4x1048576:sampled-entropy>7\.98$/);
  });

  it('reports a missing zstd binary clearly', async () => {
    await expect(run(input, () => createZstd({ bin: '/nonexistent/zstd' }))).rejects.toThrow(/cannot run \/nonexistent\/zstd/);
  });
});
