// The record blob a push sends is the record's JSON, and the same record must be the same blob: else a `push` of a
// build that `build --push` already put there sends its record again and moves its tags to a new index. A record
// just built has its keys in the order the build wrote them; one read back from its file, in the schema's (the
// reader's parse). registry/artifact.ts puts the top level and each tree manifest in the schema's order; every key
// deeper is the build's own, so the build must write it in the schema's order. This checks that it does, for a build
// with the most kinds of field: two platforms, an archive tree and a chunked tree (chunks, assembled, recipes).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBuildRecord } from '../src/state/records.js';
import { runCli } from './support/cli-process.js';
import { copyTwoPlatformSample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** Paths where `built` and `read` list their keys in another order, below the two levels artifact.ts orders. */
function orderDifferences(built: unknown, read: unknown, at = '$', out = new Set<string>()): Set<string> {
  if (Array.isArray(built)) {
    built.forEach((v, i) => orderDifferences(v, (read as unknown[] | undefined)?.[i], `${at}[]`, out));
  } else if (built !== null && typeof built === 'object') {
    const keys = (o: unknown) => Object.entries((o ?? {}) as Record<string, unknown>).flatMap(([k, v]) => (v === undefined ? [] : [k]));
    if (at !== '$' && at !== '$.manifests[]' && keys(built).join() !== keys(read).join()) out.add(`${at}: built ${keys(built).join(',')}; read ${keys(read).join(',')}`);
    for (const k of keys(built)) orderDifferences((built as Record<string, unknown>)[k], (read as Record<string, unknown> | undefined)?.[k], `${at}.${k}`, out);
  }
  return out;
}

describe('a build record as built, and as read back', () => {
  it('has its keys in the same order below the top level and the tree manifests', async () => {
    const dir = await tempDir();
    await copyTwoPlatformSample(dir);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml.replace('    source: ./app-media', '    source: ./app-media\n    chunks: {minFileSize: 256KiB, avgChunkSize: 64KiB}'));
    // A file above minFileSize, of bytes that chunk (not one repeated byte).
    await writeFile(path.join(dir, 'app-media/big.bin'), randomBytes(300_000));
    const r = await runCli(['build', '-t', 'v1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(dir, '.gamelayer/records/build-v1.json');
    const built = JSON.parse(readFileSync(file, 'utf8')) as { manifests: { recipes?: unknown[] }[] };
    expect(built.manifests.some((m) => m.recipes?.length)).toBe(true);
    expect([...orderDifferences(built, await readBuildRecord(file))]).toEqual([]);
  });
});
