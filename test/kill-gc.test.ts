// kill -9 of `gamelayer gc --apply` at exact steps (strace kills it on entering the system call): at the first
// removed record (index.json already rewritten), half-way through the blobs, before the layer cache is rewritten,
// and before its hold on the store is released. After each: the store and records are consistent, a build that
// needs the collected layers again builds and pushes whole images, and the next gc completes, leaving the same
// store as runs that were never interrupted.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { runCliKilledAt, type SyscallPoint } from './support/kill-at-syscall.js';
import { changeKillGame, writeKillGame } from './support/kill-game.js';
import { startRegistry, storageProblems, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { layerContentProblems, recordProblems, storeProblems } from './support/verify-state.js';

let registry: TestRegistry;
let root: string;
let template: string;
/** The uninterrupted runs: gc --keep 1 of three builds, then day 1's files again as v4, then gc --keep 2. */
let reference: { garbage: string[]; blobs: string[]; tags: string[] };

const store = (p: string) => path.join(p, '.gamelayer/oci');
const blobs = async (p: string) => (existsSync(path.join(store(p), 'blobs/sha256')) ? (await readdir(path.join(store(p), 'blobs/sha256'))).sort() : []);
const tagsOf = async (p: string) =>
  (JSON.parse(await readFile(path.join(store(p), 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] }).manifests
    .map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '')
    .sort();
const copy = (from: string, to: string) => execFileSync('cp', ['-a', from, to]);

async function expectConsistent(p: string): Promise<void> {
  expect(await storeProblems(store(p))).toEqual([]);
  expect(await recordProblems(path.join(p, '.gamelayer'), store(p))).toEqual([]);
}

async function ok(args: string[], cwd: string): Promise<string> {
  const r = await runCli(args, { cwd });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** Day 1's media again (built as v4: the layers gc collected are needed again), pushed to `repo`. */
async function buildV4(p: string, repo: string): Promise<void> {
  await changeKillGame(p, 1);
  await ok(['build', '--tag', 'v4', '--push', `${registry.host}/${repo}`], p);
  expect(await storageProblems(registry.storageDir)).toEqual([]);
  await expectConsistent(p);
  // Every layer v4's record names holds what its plan says (a layer cache row of a collected blob was not trusted).
  expect(await layerContentProblems(store(p), path.join(p, '.gamelayer/records/build-v4.json'), await tempDir(), (t) => `/opt/local/${t}`)).toEqual([]);
}

beforeAll(async () => {
  registry = await startRegistry();
  root = await tempDir('gl-kill-gc-');
  template = path.join(root, 'template');
  await writeKillGame(template);
  for (const day of [1, 2, 3]) {
    if (day > 1) await changeKillGame(template, day);
    await ok(['build', '--tag', `v${day}`], template);
  }
  const ref = path.join(root, 'reference');
  copy(template, ref);
  const gc = JSON.parse(await ok(['gc', '--keep', '1', '--apply', '--json'], ref)) as { blobs: { digest: string }[]; removedBuilds: string[] };
  expect(gc.removedBuilds).toEqual(['v2', 'v1']);
  expect(gc.blobs.length).toBeGreaterThan(4);
  await buildV4(ref, 'gc-reference');
  await ok(['gc', '--keep', '2', '--apply'], ref);
  reference = { garbage: gc.blobs.map((b) => b.digest.slice('sha256:'.length)), blobs: await blobs(ref), tags: await tagsOf(ref) };
}, 120_000);
afterAll(async () => registry?.stop());

describe('kill -9 during gc --apply', () => {
  const points: { name: string; at: (p: string) => SyscallPoint }[] = [
    { name: 'at the first removed record (index.json rewritten)', at: (p) => ({ call: 'unlink', path: path.join(p, '.gamelayer/records/build-v2.json') }) },
    {
      name: 'half-way through the blobs',
      at: (p) => ({ call: 'unlink', path: path.join(store(p), 'blobs/sha256', reference.garbage[Math.floor(reference.garbage.length / 2)]!) }),
    },
    // Past the blobs: the first cache file about a collected blob (its verified marker); the layer cache still has
    // rows of the collected blobs.
    { name: 'after the blobs, before the caches', at: (p) => ({ call: 'unlink', path: path.join(p, '.gamelayer/cache/verified-blobs', reference.garbage[0]!) }) },
    { name: 'before its hold on the store is released', at: (p) => ({ call: 'unlink', path: path.join(store(p), '.holds/gc') }) },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const p = path.join(root, `point-${i}`);
    copy(template, p);
    const before = await blobs(p);
    const killed = await runCliKilledAt(['gc', '--keep', '1', '--apply'], points[i]!.at(p), { cwd: p });
    expect(killed.killed, JSON.stringify(killed.result)).toBe(true);
    await expectConsistent(p);
    const left = await blobs(p);
    if (i === 0) expect(left).toEqual(before);
    else if (i === 1) expect(left.length).toBeGreaterThan(before.length - reference.garbage.length);
    else expect(left.length).toBe(before.length - reference.garbage.length);

    // A build needing the collected layers again, pushed: whole images, whole layers, consistent state.
    await buildV4(p, `gc-${i}`);
    // gc completes, and leaves what the uninterrupted runs left.
    await ok(['gc', '--keep', '2', '--apply'], p);
    await expectConsistent(p);
    expect(await blobs(p)).toEqual(reference.blobs);
    expect(await tagsOf(p)).toEqual(reference.tags);
    expect(existsSync(path.join(store(p), '.holds/gc'))).toBe(false);
    const dry = await runCli(['gc', '--keep', '2', '--exit-code'], { cwd: p });
    expect(dry.code, dry.stdout).toBe(0);
  });
});
