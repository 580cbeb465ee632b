// The native assembler's check is the recipe's xxh64 (docs/chunks.md, "The native assembler" and "Security"), run
// on this host's binary directly (static: no container needed): its xxh64 is xxHash's (as the scan's xxhash-wasm);
// a chunk damaged in place (same size, one byte flipped) is refused and named; a recipe whose xxh64 is wrong while
// its sha256 and every chunk are right is refused, which shows the xxh64 is what is checked; a recipe without an xxh64
// is refused before anything is written.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemblerFor } from '../src/oci/assembler.js';
import { chunkPath, recipeText, writeChunkedTree, type ChunkedTree } from './support/chunked-tree.js';
import { prng } from './support/prng.js';
import { tempDir } from './support/tmp.js';

const HOST = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
const BIG = ['paks/a.pak', 'paks/b.pak', 'paks/c.pak'];

let work: string;
let source: string;
let chunked: string;
let tree: ChunkedTree;

function assemble(store: string, dst: string): SpawnSyncReturns<string> {
  return spawnSync(assemblerFor(HOST)!.path, ['app-media', store, dst, '2'], { encoding: 'utf8' });
}

/** Every regular file under `dir`, relative path → sha256. */
function files(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, files(dir, r));
    else out[r] = createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex');
  }
  return out;
}

/** A copy of the chunk store, changed by `edit`; returns its path. */
let copies = 0;
async function store(edit: (folder: string) => void): Promise<string> {
  const to = path.join(work, `store-${++copies}`);
  spawnSync('cp', ['-a', path.join(chunked, '.gamelayer-chunks'), to]);
  edit(to);
  return to;
}

async function emptyDst(): Promise<string> {
  const dir = path.join(work, `dst-${++copies}`);
  await mkdir(dir);
  return dir;
}

beforeAll(async () => {
  work = await tempDir('gl-assemble-xxh64-');
  source = path.join(work, 'source');
  await mkdir(path.join(source, 'paks'), { recursive: true });
  for (const [i, p] of BIG.entries()) await writeFile(path.join(source, p), prng(`xxh64-${p}`, 1_500_000 + i * 700_001));
  chunked = path.join(work, 'chunked');
  tree = await writeChunkedTree(source, chunked, { minFileSize: 1024 * 1024, chunkSize: 256 * 1024 });
});

describe('native assembler: the xxh64 check', () => {
  it("--xxh64 hashes as xxHash does (xxhash-wasm, the scan's)", async () => {
    const { h64Raw } = await xxhash();
    for (const n of [0, 1, 3, 31, 32, 33, 63, 64, 65, 131_072, 1_048_583]) {
      const input = prng(`len-${n}`, n);
      const r = spawnSync(assemblerFor(HOST)!.path, ['--xxh64'], { input });
      expect(r.stdout.toString(), `${n} bytes`).toBe(`${h64Raw(input).toString(16).padStart(16, '0')}\n`);
    }
  });

  it('a sound tree: every file identical to its source', async () => {
    const dst = await emptyDst();
    const r = assemble(path.join(chunked, '.gamelayer-chunks'), dst);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(files(dst)).toEqual(files(source));
  });

  it('a chunk damaged in place (same size, one byte flipped): refused, file and chunk named, nothing left of that file', async () => {
    const f = tree.files.find((x) => x.path === 'paks/b.pak')!;
    const sha = f.chunks[2]!.sha256;
    expect(tree.files.filter((x) => x.chunks.some((c) => c.sha256 === sha))).toHaveLength(1);
    const s = await store((folder) => {
      const p = path.join(folder, chunkPath(sha).slice('.gamelayer-chunks/'.length));
      const bytes = readFileSync(p);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
      writeFileSync(p, bytes);
      expect(readFileSync(p).length).toBe(f.chunks[2]!.size);
    });
    const dst = await emptyDst();
    const r = assemble(s, dst);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^gamelayer: app-media: paks/b\\.pak \\(recipe ${s}/r/paks/b\\.pak\\): chunk 3 \\(${sha}\\): its bytes hash to [0-9a-f]{64}: ${s}/c/${sha.slice(0, 2)}/${sha} is damaged$`, 'm'),
    );
    const left = files(dst);
    expect(left['paks/b.pak']).toBeUndefined();
    expect(Object.keys(left).filter((p) => p.endsWith('.gamelayer-tmp'))).toEqual([]);
    for (const [p, sum] of Object.entries(left)) expect(sum, p).toBe(files(source)[p]);
  });

  it("a recipe whose xxh64 is wrong while its sha256 and every chunk are right: refused, the recipe named wrong", async () => {
    const f = tree.files.find((x) => x.path === 'paks/a.pak')!;
    const s = await store((folder) => writeFileSync(path.join(folder, 'r', f.path), recipeText(f, '0123456789abcdef')));
    const dst = await emptyDst();
    const r = assemble(s, dst);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^gamelayer: app-media: paks/a\\.pak \\(recipe ${s}/r/paks/a\\.pak\\): assembled ${f.size} bytes with sha256 ${f.sha256} as the recipe says, but xxh64 [0-9a-f]{16} where the recipe says 0123456789abcdef, yet every chunk matches its name: the recipe is wrong$`,
        'm',
      ),
    );
    expect(existsSync(path.join(dst, f.path))).toBe(false);
    expect(existsSync(path.join(dst, `${f.path}.gamelayer-tmp`))).toBe(false);
  });

  it('a recipe without an xxh64: refused before any file is written', async () => {
    const f = tree.files.find((x) => x.path === 'paks/c.pak')!;
    const s = await store((folder) =>
      writeFileSync(
        path.join(folder, 'r', f.path),
        recipeText(f, 'x')
          .split('\n')
          .filter((l) => !l.startsWith('xxh64 '))
          .join('\n'),
      ),
    );
    const dst = await emptyDst();
    const r = assemble(s, dst);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`gamelayer: app-media: paks/c.pak (recipe ${s}/r/paks/c.pak): xxh64: expected 16 lower-case hex digits\n`);
    expect(files(dst)).toEqual({});
  });
});
