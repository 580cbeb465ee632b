import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffEntries, diffManifests } from '../src/diff/diff.js';
import { scanTree } from '../src/scan/scan.js';
import type { FileEntry } from '../src/types.js';
import { tempDir } from './support/tmp.js';
import { writeTree } from './support/trees.js';

const f = (p: string, xxh64: string, size = 1, mode = 0o644): FileEntry => ({ path: p, type: 'file', mode, size, xxh64 });

describe('diff', () => {
  it('finds every change kind in sorted entry lists', () => {
    const before = [f('a', '1'), f('b', '2'), f('c', '3'), f('d', '4', 10), { path: 'l', type: 'symlink' as const, mode: 0o777, size: 0, linkTarget: 'a' }, f('t', '6')];
    const after = [
      f('a', '1'), // unchanged
      f('b', '9', 5), // content
      f('c', '3', 1, 0o755), // mode
      { path: 'l', type: 'symlink' as const, mode: 0o777, size: 0, linkTarget: 'b' }, // link target
      { path: 't', type: 'dir' as const, mode: 0o755, size: 0 }, // type
      f('z', '7', 100), // added
    ];
    const d = diffEntries('app', before, after);
    expect(d.unchanged).toBe(1);
    expect(d.added.map((e) => e.path)).toEqual(['z']);
    expect(d.removed.map((e) => e.path)).toEqual(['d']);
    expect(d.modified.map((m) => m.after.path)).toEqual(['b', 'c', 'l', 't']);
    expect([d.bytesAdded, d.bytesModified, d.bytesRemoved]).toEqual([100, 5 + 1, 10]);
  });

  it('diffs scanned trees, pairing them by tree and platform', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'media');
    await writeTree(root, { 'levels/l1.pak': 'one', 'levels/l2.pak': 'two', 'paks/big.pak': Buffer.alloc(4096, 1) });
    const a = (await scanTree('app-media', root, { include: ['**'], exclude: [] }, { stateDir: dir })).manifest;
    await writeFile(path.join(root, 'levels/l1.pak'), 'ONE!');
    await rm(path.join(root, 'levels/l2.pak'));
    await mkdir(path.join(root, 'levels/l3'));
    await writeFile(path.join(root, 'levels/l3/x.pak'), 'three');
    const b = (await scanTree('app-media', root, { include: ['**'], exclude: [] }, { stateDir: dir })).manifest;
    const engine = { ...a, tree: 'engine' as const, platform: 'linux/arm64' };
    const [media, arm] = diffManifests([a, engine], [b]);
    expect(media).toMatchObject({ label: 'app-media', bytesAdded: 5, bytesModified: 4, bytesRemoved: 3 });
    expect(media!.added.map((e) => e.path)).toEqual(['levels/l3', 'levels/l3/x.pak']);
    expect(media!.removed.map((e) => e.path)).toEqual(['levels/l2.pak']);
    expect(arm!.label).toBe('engine linux/arm64');
    expect(arm!.removed.length).toBe(engine.entries.length);
  });

  it('short-cuts identical digests', () => {
    const m = { tree: 'app' as const, root: '/x', source: { kind: 'dir' as const, path: '/x' }, entries: [f('a', '1')], digest: 'sha256:same' };
    expect(diffManifests([m], [{ ...m }])[0]).toMatchObject({ unchanged: 1, added: [], modified: [], removed: [] });
  });

  it('tells the CLI user when there is no baseline yet', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'gamelayer.yaml': 'game: g\nstart: x\ntrees:\n  engine: {source: e}\n  engine-media: {source: e}\n  app: {source: e}\n  app-media: {source: e}\n', 'e/x': 'x' });
    let err = '';
    try {
      execFileSync(path.resolve('bin/gamelayer.js'), ['-c', path.join(dir, 'gamelayer.yaml'), 'diff'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toContain(`error[diff.no-baseline]: no earlier scan or build of g in ${dir}/.gamelayer`);
    expect(err).toContain('hint: run `gamelayer scan` (or `gamelayer build`) once to record a baseline');
    // Said before the trees are hashed (minutes on a big game), and pointing a fresh host at the registry's build.
    expect(err).not.toMatch(/^hash /m);
    expect(err).toContain('on a fresh host, compare with a pushed build: gamelayer diff --against HOST/REPO');
    await writeTree(dir, { 'gamelayer.yaml': 'game: g\nstart: x\nregistry: 127.0.0.1:9/studio/g\ntrees:\n  engine: {source: e}\n  engine-media: {source: e}\n  app: {source: e}\n  app-media: {source: e}\n' });
    try {
      execFileSync(path.resolve('bin/gamelayer.js'), ['-c', path.join(dir, 'gamelayer.yaml'), 'diff'], { stdio: 'pipe', env: { ...process.env, CI: '1' } });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toContain('on a fresh host, compare with the pushed build: gamelayer diff --against 127.0.0.1:9/studio/g');
    expect(err).not.toMatch(/^hash /m);
  });
});
