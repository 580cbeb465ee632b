// A record stop 47 wrote has its `store` last: whose it is (record-name.ts) was read from all of it, by every build
// after, as a no-op build leaves an unchanged record as it is. Such a build rewrites it (and its last-build copy) once
// with `kind` and `store` first, its content the same, its pushes kept.
import { execFileSync } from 'node:child_process';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { runCli } from './support/cli-process.js';
import { sampleGame } from './support/sample.js';

const NOBODY = { uid: 65534, gid: 65534 };

/** The record's members with `store` last, and a push noted (stop 47's layout of a pushed build). */
function stop47(text: string): string {
  const { store, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify({ ...rest, pushed: [{ repository: 'r.example/g', images: [], at: '2026-12-01T00:00:00.000Z' }], store });
}

describe("a record of stop 47's layout", () => {
  it('is rewritten with its store first by a no-op build, its content the same', async () => {
    const { game, config } = await sampleGame();
    await build({ config });
    const records = path.join(game, '.gamelayer/records');
    const names = (await readdir(records)).sort();
    expect(names).toEqual(['build-1.0.0.json', 'build-last.json']);
    const old = stop47(await readFile(path.join(records, 'build-1.0.0.json'), 'utf8'));
    for (const n of names) await writeFile(path.join(records, n), old);

    const again = await build({ config });
    expect(again.summary.layers.every((l) => l.reused)).toBe(true);
    for (const n of names) {
      const text = await readFile(path.join(records, n), 'utf8');
      expect(text.startsWith('{"kind":"build","store":"oci",')).toBe(true);
      expect(JSON.parse(text)).toEqual(JSON.parse(old));
    }
  });
});

describe("a record of stop 47's layout that cannot be rewritten", () => {
  it('is left as it is: the no-op build does not fail on the optional rewrite', async () => {
    const { dir, game, config } = await sampleGame();
    await build({ config });
    const records = path.join(game, '.gamelayer/records');
    const old = stop47(await readFile(path.join(records, 'build-1.0.0.json'), 'utf8'));
    for (const n of await readdir(records)) await writeFile(path.join(records, n), old);
    // The records folder is not writable for the user the build runs as: the rewrite fails (EACCES).
    execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    await chmod(records, 0o555);
    const r = await runCli(['build'], { cwd: game, asUser: NOBODY });
    // Before: the no-op build failed on the migration's write error.
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(records, 'build-1.0.0.json'), 'utf8')).toBe(old);
  });
});
