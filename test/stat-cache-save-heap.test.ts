// Issue 17, memory: saving the stat cache of a 1M-file cold build must leave nothing of size in V8's old generation.
// Numbers turned into text by join or String() go through V8's number-to-string cache, whose strings are promoted
// while they sit in it and stay as garbage once evicted: about 23 bytes per distinct number, the peak of a cold build
// of 1M files with a small young generation. The save writes the same bytes through JSON.stringify of each piece.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';

describe('stat cache save: old-generation garbage', () => {
  it('leaves under 4 bytes a row of old-generation growth for 200k rows of distinct stats', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'stat-cache.json');
    const out = execFileSync(process.execPath, ['--max-semi-space-size=1', '--expose-gc', '--import', 'tsx', 'test/support/stat-cache-save-probe.ts', file, '200000'], {
      cwd: path.join(import.meta.dirname, '..'),
    }).toString();
    const { oldGrowth, rows } = JSON.parse(out) as { oldGrowth: number; rows: number };
    expect(rows).toBe(200_000);
    expect(oldGrowth / rows).toBeLessThan(4);
    // The same JSON as before: every number as String() writes it.
    const body = JSON.parse((await readFile(file, 'utf8')).split('\n')[1]!) as { paths: string[]; mtime: number[]; ctime: number[]; ino: number[]; xxh64: string };
    expect(body.paths.length).toBe(200_000);
    expect(body.mtime[3]).toBe(1_700_000_000_000 + 3 * 1.25);
    expect(body.ctime[199_999]).toBe(1_700_000_000_000 + 199_999 * 1.5);
    expect(body.ino[7]).toBe(1_000_007);
    expect(body.xxh64.slice(0, 16)).toBe('1000000000000000');
  }, 60_000);
});
