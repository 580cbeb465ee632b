// The state folder (.gamelayer/) and the store hold files gamelayer wrote, but anyone may have put something else
// there. A FIFO in place of a cache or lock file blocked the build (or gc) for ever: the layer cache, a stat cache,
// a verified-blob marker, an archive member's cached copy, the gc hold. Each is now opened without blocking and
// taken for what it is: no cache (with the warning a damaged cache gets), no marker, no copy, no live holder.
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useReapedCli } from './support/reaped-cli.js';
import { mkfifo } from './support/mkfifo.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

/** xxh64 of no bytes: the name of an empty member's cached copy. */
const EMPTY_XXH64 = 'ef46db3751d8e999';

const registry = useRegistry();

// A CLI left blocked on a FIFO by a failing run is killed, not left behind.
const run = useReapedCli();

/** The sample game (its engine is a tarball: archive members are cached) built once. */
async function builtSample(prefix: string): Promise<{ dir: string; state: string }> {
  const dir = await tempDir(prefix);
  copySample(dir);
  expect((await run(['build'], dir)).code).toBe(0);
  return { dir, state: path.join(dir, '.gamelayer') };
}

async function fifoInPlace(file: string): Promise<void> {
  await rm(file, { force: true });
  await mkfifo(file);
}

describe('a FIFO in place of a state file', () => {
  it('the layer cache, a stat cache and a verified-blob marker: the build goes on, saying which cache it left aside', async () => {
    const g = await builtSample('gl-state-fifo-');
    await fifoInPlace(path.join(g.state, 'cache', 'layers.json'));
    const stats = path.join(g.state, 'cache', 'stat');
    for (const f of await readdir(stats)) await fifoInPlace(path.join(stats, f));
    const markers = path.join(g.state, 'cache', 'verified-blobs');
    await fifoInPlace(path.join(markers, (await readdir(markers))[0]!));
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain('warning: layer cache ignored (not a regular file (a FIFO))');
    expect(r.stderr).toMatch(/warning: \S+: stat cache ignored \(not a regular file \(a FIFO\)\); hashing every file again/);
    expect(r.code).toBe(0);
    expect((await stat(path.join(g.state, 'cache', 'layers.json'))).isFile()).toBe(true);
  });

  it("an archive member's cached copy (an empty member's: a FIFO has its size): copied again from the archive", async () => {
    const dir = await tempDir('gl-state-member-');
    await mkdir(path.join(dir, 'engine-src', 'bin'), { recursive: true });
    await writeFile(path.join(dir, 'engine-src', 'bin', 'run'), '#!/bin/sh\n');
    await writeFile(path.join(dir, 'engine-src', 'empty.cfg'), '');
    execFileSync('tar', ['-czf', path.join(dir, 'engine.tar.gz'), '-C', path.join(dir, 'engine-src'), '.']);
    await writeTinyGame(dir, ['game: state-member', 'start: [/opt/local/engine/bin/run]'], { source: (t) => (t === 'engine' ? 'engine.tar.gz' : t) });
    expect((await run(['build'], dir)).code).toBe(0);
    const copies = path.join(dir, '.gamelayer', 'cache', 'archive-content');
    const names = await readdir(copies);
    expect(names).toContain(EMPTY_XXH64);
    for (const f of names) await fifoInPlace(path.join(copies, f));
    // Without the store the engine's layer is written again, from the cached copies.
    await rm(path.join(dir, '.gamelayer', 'oci'), { recursive: true });
    await rm(path.join(dir, '.gamelayer', 'cache', 'layers.json'));
    const r = await run(['build'], dir);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    for (const f of names) expect((await stat(path.join(copies, f))).isFile(), f).toBe(true);
  });

  it('the gc hold of the store: build goes on, gc --apply takes it over as a lock that names no process', async () => {
    const g = await builtSample('gl-state-hold-');
    const holds = path.join(g.state, 'oci', '.holds');
    await fifoInPlace(path.join(holds, 'gc'));
    // Left unchanged for a minute, as a lock whose writer died before naming itself.
    const old = new Date(Date.now() - 60_000);
    await utimes(path.join(holds, 'gc'), old, old);
    expect((await run(['build'], g.dir)).code).toBe(0);
    const gc = await run(['gc', '--apply'], g.dir);
    expect(gc.stderr).not.toContain('error');
    expect(gc.code).toBe(0);
  });

  it('the last build record: diff --against refuses it, naming the file (was: blocked for ever)', async () => {
    const g = await builtSample('gl-state-last-');
    const repo = `${registry.host}/studio/state-last`;
    const pushed = await run(['build', '--push', repo], g.dir);
    expect(pushed.code, pushed.stderr).toBe(0);
    const last = path.join(g.state, 'records', 'build-last.json');
    await fifoInPlace(last);
    const r = await run(['diff', '--against', repo], g.dir);
    expect(r.stderr).toContain(`error[record.unreadable]: ${last}: cannot be read: not a regular file (a FIFO)\n`);
    expect(r.code).toBe(1);
  });
});
