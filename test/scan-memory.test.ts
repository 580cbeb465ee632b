// Issue 17, memory: the scan makes each walked entry its FileEntry at once and the stat cache writes its JSON in
// pieces. What a reader sees must not change: the cache file holds the very bytes one JSON.stringify made before.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanTree } from '../src/scan/scan.js';
import { writeCheckedJson } from '../src/util/checked-json.js';
import { tempDir } from './support/tmp.js';

const ALL = { include: ['**'], exclude: [] };

/** `n` files in folders of 1000 (names that need JSON escaping among them), all an hour old, and one fresh file. */
async function manyFiles(root: string, n: number): Promise<void> {
  for (let d = 0; d * 1000 < n; d++) {
    const dir = path.join(root, `d${d}`);
    await mkdir(dir, { recursive: true });
    for (let i = d * 1000; i < Math.min(n, (d + 1) * 1000); i++) {
      const name = i % 997 === 0 ? `q"uo\\te ü ${i}` : `f${i}`;
      await writeFile(path.join(dir, name), i % 3 === 0 ? '' : `content ${i}\n`);
    }
  }
  execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
  await writeFile(path.join(root, 'fresh.txt'), 'just written: racy, so not cached\n');
}

describe('stat cache written in pieces', () => {
  it('holds the same bytes as one JSON.stringify of its columns, over several pieces, and serves a no-op rescan', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 't');
    await manyFiles(root, 5000); // more rows than one piece (4096) holds, and a partly filled last piece
    const state = path.join(dir, 's');
    const first = await scanTree('app', root, ALL, { stateDir: state });
    expect(first.stats).toMatchObject({ hashedFiles: 5001, cacheHits: 0 });
    const cacheFile = execFileSync('find', [path.join(state, 'cache', 'stat'), '-name', '*.json']).toString().trim();
    const written = await readFile(cacheFile);
    const columns = JSON.parse(written.toString('utf8').split('\n')[1]!) as { paths: string[]; xxh64: string; size: number[] };
    expect(columns.paths).toHaveLength(5000); // the fresh file is left out
    expect(columns.paths).toContain('d0/q"uo\\te ü 0');
    // Every kept row's hash is the manifest's.
    const byPath = new Map(first.manifest.entries.map((e) => [e.path, e]));
    columns.paths.forEach((p, i) => expect(columns.xxh64.slice(i * 16, i * 16 + 16)).toBe(byPath.get(p)!.xxh64));
    // The same value written the way it was before (one JSON.stringify): byte for byte the same file.
    const again = path.join(dir, 'again.json');
    await writeCheckedJson(again, 'gamelayer-stat-cache/2', columns);
    expect(written.equals(await readFile(again))).toBe(true);

    const second = await scanTree('app', root, ALL, { stateDir: state });
    expect(second.stats).toMatchObject({ hashedFiles: 1, cacheHits: 5000 });
    expect(second.manifest).toEqual(first.manifest);
  });
});
