// The chunker (FastCDC-style, content-defined), the recipe format, and the manifest transform of a chunked tree.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Chunker, chunkLengths, chunkSizes } from '../src/chunk/fastcdc.js';
import { gearTable } from '../src/chunk/gear.js';

const GEAR = gearTable();
import { chunkPath, formatRecipe, parseRecipe, recipePath } from '../src/chunk/recipe.js';
import { chunkFile, chunkFileForScan, chunkTree, chunkingHasher } from '../src/scan/chunk-tree.js';
import { scanTree } from '../src/scan/scan.js';
import { GamelayerError } from '../src/errors.js';
import { tempDir } from './support/tmp.js';
import { prng } from './support/prng.js';


function boundaries(lengths: number[]): Set<number> {
  const s = new Set<number>();
  let at = 0;
  for (const l of lengths) s.add((at += l));
  return s;
}

const KiB = 1024;
const MiB = 1024 * KiB;

describe('the chunker', () => {
  it('has a fixed gear table (chunk boundaries are part of image digests)', () => {
    expect(GEAR.length).toBe(256);
    expect(createHash('sha256').update(GEAR.join(',')).digest('hex')).toBe('471d17d3efe9beb3d449162ae5584d5296a9e636b55e9d48fa4fa7e342485b62');
  });

  it('cuts the same bytes into the same chunks, each within min and max', () => {
    const data = prng('sizes', 24 * MiB);
    const a = chunkLengths(data, 256 * KiB);
    expect(chunkLengths(data, 256 * KiB)).toEqual(a);
    const { min, max } = chunkSizes(256 * KiB);
    expect(a.reduce((n, l) => n + l, 0)).toBe(data.length);
    for (const l of a.slice(0, -1)) {
      expect(l).toBeGreaterThanOrEqual(min);
      expect(l).toBeLessThanOrEqual(max);
    }
    // The average lands near the configured one (normalised chunking keeps it close).
    const mean = data.length / a.length;
    expect(mean).toBeGreaterThan(200 * KiB);
    expect(mean).toBeLessThan(400 * KiB);
  });

  it('pins the boundaries of a known input', () => {
    // A change to the hash, the masks or the skipping moves these: that changes every chunked image's digest.
    const lengths = chunkLengths(prng('pinned', 4 * MiB), 256 * KiB);
    expect(createHash('sha256').update(lengths.join(',')).digest('hex').slice(0, 16)).toBe(PINNED);
  });

  it('cuts where the plain byte-at-a-time gear loop cuts, at any chunk size and any buffer split', () => {
    // The reference: the algorithm as docs/chunks.md states it, one byte a step (the chunker rolls four at a time).
    const reference = (data: Uint8Array, avg: number): number[] => {
      const { min, max } = chunkSizes(avg);
      const bits = Math.round(Math.log2(avg));
      const maskS = (0xffffffff << (32 - (bits + 1))) | 0;
      const maskL = (0xffffffff << (32 - (bits - 1))) | 0;
      const out: number[] = [];
      for (let start = 0; start < data.length; ) {
        let len = Math.min(min, data.length - start);
        let h = 0;
        while (start + len < data.length && len < max) {
          h = ((h << 1) + GEAR[data[start + len]!]!) | 0;
          len++;
          if ((h & (len <= avg ? maskS : maskL)) === 0) break;
        }
        out.push(len);
        start += len;
      }
      return out;
    };
    for (const [seed, size, avg] of [['ref-a', 3 * MiB + 7, 64 * KiB], ['ref-b', 5 * MiB + 3, 256 * KiB], ['ref-c', 2 * MiB + 1, 16 * KiB]] as const) {
      const data = prng(seed, size);
      const want = reference(data, avg);
      expect(chunkLengths(data, avg), seed).toEqual(want);
      // Fed in buffers of odd sizes (1 byte to 40 KiB): the hash and the length carry over from buffer to buffer.
      const c = new Chunker(chunkSizes(avg));
      const got: number[] = [];
      let chunkStart = 0;
      for (let at = 0, k = 0; at < data.length; k++) {
        const block = data.subarray(at, Math.min(data.length, at + 1 + ((k * 7919) % (40 * KiB))));
        for (let start = 0; start < block.length; ) {
          const end = c.cut(block, start);
          if (end < 0) break;
          got.push(at + end - chunkStart);
          chunkStart = at + end;
          start = end;
        }
        at += block.length;
      }
      if (chunkStart < data.length) got.push(data.length - chunkStart);
      expect(got, `${seed} in small buffers`).toEqual(want);
    }
  });

  it('resyncs after an insertion: fewer than 2 mean chunks of new bytes besides the inserted ones', () => {
    // What an edit costs in a patch layer: the chunks that are new. The chunk the edit falls in is new whatever the
    // chunker; a chunker whose cut depends too much on the chunk's length (normalisation level 2) also cuts anew
    // after it and skips old boundaries: 2.4–2.8 mean chunks per insertion on these inputs, 1.6–1.7 at level 1.
    const avg = 16 * KiB;
    const data = prng('resync', 4 * MiB);
    const before = chunkLengths(data, avg);
    const sha = (b: Buffer, ls: number[]) => {
      let o = 0;
      return ls.map((l) => createHash('sha256').update(b.subarray(o, (o += l))).digest('hex'));
    };
    const had = new Set(sha(data, before));
    const mean = data.length / before.length;
    const trials = 64;
    let overhead = 0;
    for (let t = 0; t < trials; t++) {
      const at = Math.floor(data.length * (0.05 + (0.9 * t) / trials)) + 101 * t;
      const length = 4 * KiB + 97 * t;
      const edited = Buffer.concat([data.subarray(0, at), prng(`resync-ins-${t}`, length), data.subarray(at)]);
      const after = chunkLengths(edited, avg);
      const fresh = sha(edited, after).reduce((n, h, i) => (had.has(h) ? n : n + after[i]!), 0);
      expect(fresh).toBeGreaterThanOrEqual(length);
      overhead += fresh - length;
    }
    expect(overhead / trials / mean).toBeLessThan(2);
  });

  it('cuts a stream fed in small buffers exactly as the whole buffer', async () => {
    const root = await tempDir();
    const data = prng('stream', 6 * MiB + 12345);
    await writeFile(path.join(root, 'f'), data);
    const xxh = (await import('xxhash-wasm')).default;
    const api = await xxh();
    const list = await chunkFile(path.join(root, 'f'), { size: data.length, xxh64: api.h64Raw(data).toString(16).padStart(16, '0') }, 256 * KiB);
    expect(list.chunks.map((c) => c.size)).toEqual(chunkLengths(data, 256 * KiB));
    expect(list.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    for (const c of list.chunks) expect(c.sha256).toBe(createHash('sha256').update(data.subarray(c.offset, c.offset + c.size)).digest('hex'));
  });

  it('keeps boundaries stable around an insertion or a deletion: only chunks near the edit change', () => {
    const avg = 64 * KiB;
    const data = prng('stable', 16 * MiB);
    const before = chunkLengths(data, avg);
    const at = 7 * MiB + 333;
    const inserted = Buffer.concat([data.subarray(0, at), prng('inserted', 5000), data.subarray(at)]);
    const deleted = Buffer.concat([data.subarray(0, at), data.subarray(at + 3000)]);
    for (const [edited, shift] of [[inserted, 5000], [deleted, -3000]] as const) {
      const after = chunkLengths(edited, avg);
      const old = boundaries(before);
      // Boundaries before the edit are all kept; after it, all but those of the chunk or two the edit touched.
      const moved = [...boundaries(after)].filter((b) => (b <= at ? !old.has(b) : !old.has(b - shift)));
      expect(moved.length).toBeLessThanOrEqual(3);
      const sha = (b: Buffer, ls: number[]) => {
        let o = 0;
        return ls.map((l) => createHash('sha256').update(b.subarray(o, (o += l))).digest('hex'));
      };
      const had = new Set(sha(data, before));
      const fresh = sha(edited, after).filter((h) => !had.has(h));
      expect(fresh.length).toBeGreaterThanOrEqual(1);
      expect(fresh.length).toBeLessThanOrEqual(3);
    }
  });
});

describe('the recipe format', () => {
  const recipe = {
    size: 30,
    mode: 0o755,
    sha256: 'a'.repeat(64),
    xxh64: '0123456789abcdef',
    chunks: [
      { sha256: 'b'.repeat(64), size: 10 },
      { sha256: 'c'.repeat(64), size: 20 },
    ],
  };

  it('writes the documented text and reads it back', () => {
    const text = formatRecipe(recipe);
    expect(text).toBe(`gamelayer-recipe 1\nsize 30\nmode 755\nsha256 ${'a'.repeat(64)}\nxxh64 0123456789abcdef\n\n${'b'.repeat(64)} 10\n${'c'.repeat(64)} 20\n`);
    expect(parseRecipe(text, 'r')).toEqual(recipe);
    expect(chunkPath('ab'.repeat(32))).toBe(`.gamelayer-chunks/c/ab/${'ab'.repeat(32)}`);
    expect(recipePath('paks/a.pak')).toBe('.gamelayer-chunks/r/paks/a.pak');
  });

  it.each([
    ['an unknown version', (t: string) => t.replace('recipe 1', 'recipe 2'), /first line/],
    ['chunks that do not add up', (t: string) => t.replace('size 30', 'size 31'), /add up to 30 bytes, the header says 31/],
    ['a bad chunk line', (t: string) => t.replace(' 20\n', ' x\n'), /line 8 is not/],
    ['a missing empty line', (t: string) => t.replace('\n\n', '\n'), /no empty line after the header/],
    ['a bad mode', (t: string) => t.replace('mode 755', 'mode 777'), /mode/],
    ['no line end', (t: string) => t.slice(0, -1), /line end/],
  ])('refuses %s', (_what, edit, why) => {
    const e = (() => {
      try {
        parseRecipe(edit(formatRecipe(recipe)), 'x/r/a.pak');
      } catch (err) {
        return err as GamelayerError;
      }
      throw new Error('accepted');
    })();
    expect(e.code).toBe('chunks.recipe-invalid');
    expect(e.message).toContain('x/r/a.pak');
    expect(e.message).toMatch(why);
  });
});

async function makeTree(root: string): Promise<{ big: Buffer; twin: Buffer }> {
  const big = prng('big', 3 * MiB + 777);
  // A second file sharing most of its content with the first: shared chunks must appear once.
  const twin = Buffer.concat([big.subarray(0, 2 * MiB), prng('tail', MiB)]);
  await mkdir(path.join(root, 'paks/sub'), { recursive: true });
  await writeFile(path.join(root, 'paks/a.pak'), big);
  await writeFile(path.join(root, 'paks/sub/b.pak'), twin, { mode: 0o755 });
  await writeFile(path.join(root, 'small.txt'), 'small');
  await writeFile(path.join(root, 'paks/odd\\name.pak'), big);
  await symlink('a.pak', path.join(root, 'paks/link.pak'));
  return { big, twin };
}

describe('the manifest transform', () => {
  const config = { minFileSize: MiB, avgChunkSize: 128 * KiB };

  it('replaces big files by their chunks (each once) and recipes, and keeps the rest', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    const { big, twin } = await makeTree(src);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const out = await chunkTree(scan, config, { stateDir });
    const paths = out.manifest.entries.map((e) => e.path);
    expect(paths).not.toContain('paks/a.pak');
    expect(paths).not.toContain('paks/sub/b.pak');
    expect(paths).toEqual(expect.arrayContaining(['small.txt', 'paks/link.pak', 'paks/odd\\name.pak', '.gamelayer-chunks/r/paks/a.pak', '.gamelayer-chunks/r/paks/sub/b.pak', '.gamelayer-chunks/r/paks/sub']));
    expect(out.manifest.chunks).toEqual(config);
    expect(out.manifest.digest).not.toBe(scan.manifest.digest);
    // Sorted, unique paths: the planner's input is a plain manifest.
    expect([...paths].sort()).toEqual(paths);
    expect(new Set(paths).size).toBe(paths.length);
    const recipeA = parseRecipe(out.chunkSources!.recipes.get('.gamelayer-chunks/r/paks/a.pak')!.toString(), 'a');
    const recipeB = parseRecipe(out.chunkSources!.recipes.get('.gamelayer-chunks/r/paks/sub/b.pak')!.toString(), 'b');
    expect(recipeA).toMatchObject({ size: big.length, mode: 0o644, sha256: createHash('sha256').update(big).digest('hex') });
    expect(recipeB.mode).toBe(0o755);
    const chunkEntries = out.manifest.entries.filter((e) => e.path.startsWith('.gamelayer-chunks/c/') && e.type === 'file');
    const distinct = new Set([...recipeA.chunks, ...recipeB.chunks].map((c) => c.sha256));
    expect(chunkEntries.length).toBe(distinct.size);
    expect(distinct.size).toBeLessThan(recipeA.chunks.length + recipeB.chunks.length);
    // Concatenating the chunks (read where the sources say) gives the file back.
    for (const [r, bytes] of [[recipeA, big], [recipeB, twin]] as const) {
      const parts = r.chunks.map((c) => {
        const w = out.chunkSources!.chunks.get(chunkPath(c.sha256))!;
        const file = w.file === 'paks/a.pak' ? big : twin;
        return file.subarray(w.offset, w.offset + w.size);
      });
      expect(Buffer.concat(parts).equals(bytes)).toBe(true);
    }
  });

  it('reads a big file of a chunked tree once: the scan hash comes from the chunker, chunkTree finds the list cached', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    await makeTree(src);
    // Reference: the scan hashes every file, then chunkTree reads the big ones again.
    const plainState = path.join(base, 'plain');
    const plain = await chunkTree(await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir: plainState }), config, { stateDir: plainState });
    expect(plain.chunkStats.chunkedFiles).toBe(2);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir, bigFiles: (t) => (t === 'app-media' ? chunkingHasher(config, stateDir) : undefined) });
    const out = await chunkTree(scan, config, { stateDir });
    // Both big files were chunked while the scan hashed them: none is read a second time.
    expect(out.chunkStats.chunkedFiles).toBe(0);
    expect(out.chunkStats.files).toBe(2);
    expect(out.manifest).toEqual(plain.manifest);
    expect([...out.chunkSources!.recipes]).toEqual([...plain.chunkSources!.recipes]);
  });

  it('hashes a touched big file plainly when a cached list has its size: no chunk pass for unchanged content', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    const { big } = await makeTree(src);
    const stateDir = path.join(base, 'state');
    const rescan = async () => {
      const hasher = chunkingHasher(config, stateDir);
      const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir, bigFiles: () => hasher });
      const out = await chunkTree(scan, config, { stateDir });
      return { inScan: hasher.chunked, inTransform: out.chunkStats.chunkedFiles, manifest: out.manifest };
    };
    const first = await rescan();
    expect([first.inScan, first.inTransform]).toEqual([2, 0]);
    // Same bytes written again (new mtime and ctime: the stat cache misses): plain hashes, lists from the cache.
    await writeFile(path.join(src, 'paks/a.pak'), big);
    const touched = await rescan();
    expect([touched.inScan, touched.inTransform]).toEqual([0, 0]);
    expect(touched.manifest).toEqual(first.manifest);
    // Bytes inserted (a new size): chunked once, in the scan.
    await writeFile(path.join(src, 'paks/a.pak'), Buffer.concat([big.subarray(0, MiB), prng('ins', 5000), big.subarray(MiB)]));
    const inserted = await rescan();
    expect([inserted.inScan, inserted.inTransform]).toEqual([1, 0]);
  });

  it('refuses a chunk list of a file that changed while the scan chunked it (scan.changed)', async () => {
    const base = await tempDir();
    const file = path.join(base, 'f.pak');
    await writeFile(file, prng('moved', 2 * MiB));
    const { stat } = await import('node:fs/promises');
    const st = await stat(file);
    const list = await chunkFileForScan(file, st, 64 * KiB);
    expect(list.size).toBe(2 * MiB);
    for (const before of [{ ...st, mtimeMs: st.mtimeMs - 1000 }, { ...st, size: st.size + 1 }]) {
      const e = await chunkFileForScan(file, before, 64 * KiB).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GamelayerError);
      expect((e as GamelayerError).code).toBe('scan.changed');
      expect((e as GamelayerError).message).toContain(file);
    }
  });

  it('chunks a file once per content: the recipe cache is used, and a damaged cache is not trusted', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    await makeTree(src);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const first = await chunkTree(scan, config, { stateDir });
    expect(first.chunkStats.chunkedFiles).toBe(2);
    const again = await chunkTree(scan, config, { stateDir });
    expect(again.chunkStats.chunkedFiles).toBe(0);
    expect(again.manifest).toEqual(first.manifest);
    // A cache file whose chunk list was edited (sizes that no longer add up) is recomputed, not used.
    const dir = path.join(stateDir, 'cache/recipes');
    const files = await readdir(dir);
    expect(files.length).toBe(2);
    const f = path.join(dir, files[0]!);
    await writeFile(f, (await readFile(f, 'utf8')).replace(/"sha256":"[0-9a-f]{4}/, '"sha256":"0000'));
    const third = await chunkTree(scan, config, { stateDir });
    expect(third.chunkStats.chunkedFiles).toBe(1);
    expect(third.manifest).toEqual(first.manifest);
  });

  it('a cached chunk list edited with its checksum kept (chunks reordered, sha256 made to match) is checked against the file and not used', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    const { twin } = await makeTree(src);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const first = await chunkTree(scan, config, { stateDir });
    // b.pak's list with its first two chunks swapped: offsets and sizes still add up, every chunk is a real chunk
    // (shared with a.pak, so the layer writer would read it from a.pak), and the sha256 is that of the swapped
    // order, so the sh assembly would accept the wrong file on the node.
    const dir = path.join(stateDir, 'cache/recipes');
    const name = (await readdir(dir)).find((n) => n.split('-')[1] === String(twin.length))!;
    const file = path.join(dir, name);
    const text = await readFile(file, 'utf8');
    const stored = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { sha256: string; chunks: [string, number, string][] };
    const [c0, c1] = stored.chunks as [[string, number, string], [string, number, string]];
    const swapped = Buffer.concat([twin.subarray(c0[1], c0[1] + c1[1]), twin.subarray(0, c0[1]), twin.subarray(c0[1] + c1[1])]);
    stored.chunks = [c1, c0, ...stored.chunks.slice(2)];
    stored.sha256 = createHash('sha256').update(swapped).digest('hex');
    const { writeCheckedJson } = await import('../src/util/checked-json.js');
    await writeCheckedJson(file, JSON.parse(text.slice(0, text.indexOf('\n'))).format, stored);
    const warnings: string[] = [];
    const reporter = { ...(await import('../src/report/reporter.js')).silentReporter, warn: (m: string) => warnings.push(m) };
    const again = await chunkTree(scan, config, { stateDir, reporter });
    expect(again.manifest).toEqual(first.manifest);
    expect(again.chunkStats.chunkedFiles).toBe(1);
    expect(warnings.join('\n')).toContain(file);
    expect(warnings.join('\n')).toContain('b.pak');
    // The cache holds the true list again, and a process that did not compute it checks it and takes it.
    vi.resetModules();
    const fresh = await import('../src/scan/chunk-tree.js');
    const third = await fresh.chunkTree(scan, config, { stateDir });
    expect(third.chunkStats.chunkedFiles).toBe(0);
    expect(third.manifest).toEqual(first.manifest);
  });

  it('refuses a file that changed since the scan, a source holding .gamelayer-chunks, and an archive source', async () => {
    const base = await tempDir();
    const src = path.join(base, 'src');
    await makeTree(src);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const changed = prng('other', 3 * MiB + 777);
    await writeFile(path.join(src, 'paks/a.pak'), changed);
    await expect(chunkTree(scan, config, { stateDir })).rejects.toMatchObject({ code: 'scan.changed', message: expect.stringContaining('a.pak') });

    await mkdir(path.join(src, '.gamelayer-chunks'));
    await writeFile(path.join(src, '.gamelayer-chunks/x'), 'x');
    const scan2 = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    await expect(chunkTree(scan2, config, { stateDir })).rejects.toMatchObject({ code: 'chunks.reserved-path', message: expect.stringContaining('.gamelayer-chunks') });

    const tarFile = path.join(base, 'tree.tar');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-cf', tarFile, '-C', path.join(src, 'paks'), '.']);
    const scan3 = await scanTree('app-media', tarFile, { include: ['**'], exclude: [] }, { stateDir });
    await expect(chunkTree(scan3, config, { stateDir })).rejects.toMatchObject({ code: 'chunks.archive-source', message: expect.stringContaining('trees.app-media.chunks') });
  });
});

const PINNED = 'ec486464080f5a37';

describe('the layer writer on a chunked tree', () => {
  it('writes chunks from byte ranges of the source and refuses a file changed since the scan, naming file and chunk', async () => {
    const { chunkedContentSource } = await import('../src/oci/chunk-content.js');
    const { dirContentSource } = await import('../src/oci/content.js');
    const { xxhashApi } = await import('../src/scan/hash.js');
    const base = await tempDir();
    const src = path.join(base, 'src');
    const { big } = await makeTree(src);
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const out = await chunkTree(scan, { minFileSize: MiB, avgChunkSize: 128 * KiB }, { stateDir });
    const content = chunkedContentSource(dirContentSource(src), out.chunkSources!, await xxhashApi());
    const recipe = parseRecipe(out.chunkSources!.recipes.get('.gamelayer-chunks/r/paks/a.pak')!.toString(), 'a');
    const entryOf = (p: string) => out.manifest.entries.find((e) => e.path === p)!;
    const read = async (p: string) => {
      const parts: Buffer[] = [];
      for await (const b of await content.open(entryOf(p))) parts.push(b as Buffer);
      return Buffer.concat(parts);
    };
    const viaOpen = Buffer.concat(await Promise.all(recipe.chunks.map((c) => read(chunkPath(c.sha256)))));
    expect(viaOpen.equals(big)).toBe(true);
    const first = entryOf(chunkPath(recipe.chunks[0]!.sha256));
    const buf = Buffer.alloc(first.size + 1);
    await content.readInto!(first, buf, 0);
    expect(buf.subarray(0, first.size).equals(big.subarray(0, first.size))).toBe(true);
    expect((await read('.gamelayer-chunks/r/paks/a.pak')).toString()).toContain('gamelayer-recipe 1\n');
    expect((await read('small.txt')).toString()).toBe('small');

    // The file changes after the scan: the chunk's range no longer hashes to its name.
    const edited = Buffer.from(big);
    edited[10] = edited[10]! ^ 0xff;
    await writeFile(path.join(src, 'paks/a.pak'), edited);
    await expect(read(chunkPath(recipe.chunks[0]!.sha256))).rejects.toMatchObject({ code: 'content.changed', message: expect.stringMatching(/a\.pak.*chunk [0-9a-f]{64}/) });
    expect(() => content.readInto!(first, buf, 0)).toThrow(expect.objectContaining({ code: 'content.changed', message: expect.stringContaining('not its name') }));
    await writeFile(path.join(src, 'paks/a.pak'), big.subarray(0, 1000));
    expect(() => content.readInto!(first, buf, 0)).toThrow(expect.objectContaining({ code: 'content.changed', message: expect.stringContaining('shorter') }));
  });
});

describe('trees.<tree>.chunks in gamelayer.yaml', () => {
  const yaml = (chunks: string, tree = 'app-media') =>
    ['game: g', 'start: /x', 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ${t}${t === tree ? `, chunks: ${chunks}` : ''}}`), ''].join('\n');

  it('takes sizes with defaults of 64 MiB and 256 KiB', async () => {
    const { parseConfig } = await import('../src/config/load.js');
    expect(parseConfig(yaml('{}'), '/g/gamelayer.yaml').trees['app-media'].chunks).toEqual({ minFileSize: 64 * MiB, avgChunkSize: 256 * KiB });
    expect(parseConfig(yaml('{minFileSize: 256MiB, avgChunkSize: 4MiB}'), '/g/gamelayer.yaml').trees['app-media'].chunks).toEqual({ minFileSize: 256 * MiB, avgChunkSize: 4 * MiB });
    expect(parseConfig(yaml('{}'), '/g/gamelayer.yaml').trees.app.chunks).toBeUndefined();
  });

  it.each([
    ['{avgChunkSize: 1KiB}', 'config.invalid', /trees\.app-media\.chunks\.avgChunkSize: expected a size from 64KiB to 64MiB/],
    ['{minFileSize: 1MiB, avgChunkSize: 1MiB}', 'config.invalid', /trees\.app-media\.chunks\.minFileSize: expected at least 4 × avgChunkSize/],
    ['{minFileSize: lots}', 'config.invalid', /trees\.app-media\.chunks\.minFileSize: expected a size/],
    ['{avg: 1MiB}', 'config.invalid', /trees\.app-media\.chunks\.avg: unknown field/],
  ])('refuses %s', async (chunks, code, message) => {
    const { parseConfig } = await import('../src/config/load.js');
    expect(() => parseConfig(yaml(chunks), '/g/gamelayer.yaml')).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('refuses a chunked engine tree (its image runs as it is)', async () => {
    const { parseConfig } = await import('../src/config/load.js');
    expect(() => parseConfig(yaml('{}', 'engine'), '/g/gamelayer.yaml')).toThrow(expect.objectContaining({ code: 'config.chunks-engine', message: expect.stringMatching(/^\/g\/gamelayer\.yaml:4:\d+: trees\.engine\.chunks/) }));
  });
});
