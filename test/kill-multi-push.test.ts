// kill -9 of `build --push A --push B` (several registries in one run) once the first registry is done and the
// second is part-way: its first manifest held, or its build record held. Afterwards neither registry stores a
// manifest with a missing blob, and the rerun completes both, with the uninterrupted run's images, sending neither
// registry a blob it already had.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killWhen, runCli, startCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { writeKillGame } from './support/kill-game.js';
import { startRegistry, storageProblems, storedBlobs, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { recordProblems, storeProblems } from './support/verify-state.js';

let a: TestRegistry;
let b: TestRegistry;
/** In front of b: holds one request of b's push. */
let proxy: FaultProxy;
let root: string;
let template: string;
/** Image tags → digests of an uninterrupted run. */
let reference: Record<string, string>;

const LINE = 'gamelayer-line.default';
const HOLD_ENV = { GAMELAYER_REGISTRY_IDLE_TIMEOUT: '86400', GAMELAYER_REGISTRY_TIMEOUT: '86400' };
const imageTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([t]) => t !== LINE && !t.endsWith('.gamelayer-record')));
const store = (p: string) => path.join(p, '.gamelayer/oci');

const linkedBlobs = async (r: TestRegistry, repo: string) => new Set(await storedBlobs(r.storageDir, repo));

beforeAll(async () => {
  [a, b] = await Promise.all([startRegistry(), startRegistry()]);
  proxy = await startFaultProxy(b.host);
  root = await tempDir('gl-kill-multi-');
  template = path.join(root, 'template');
  await writeKillGame(template);
  const built = await runCli(['build'], { cwd: template });
  expect(built.code, built.stderr).toBe(0);
  const ref = path.join(root, 'reference');
  execFileSync('cp', ['-a', template, ref]);
  const r = await runCli(['build', '--push', `${a.host}/studio/reference`, '--push', `${proxy.host}/studio/reference`], { cwd: ref });
  expect(r.code, r.stderr).toBe(0);
  reference = imageTags(await storedTags(a.storageDir, 'studio/reference'));
  expect(imageTags(await storedTags(b.storageDir, 'studio/reference'))).toEqual(reference);
  expect(Object.keys(reference)).toHaveLength(5);
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('kill -9 during a push to several registries, the first one done', () => {
  const points: { name: string; hold: (repo: string) => { path: RegExp; after?: number } }[] = [
    { name: "at the second registry's first manifest", hold: (repo) => ({ path: new RegExp(`^/v2/${repo}/manifests/`) }) },
    { name: "at the second registry's build record", hold: (repo) => ({ path: new RegExp(`^/v2/${repo}/manifests/1\\.0\\.0\\.gamelayer-record$`) }) },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const repo = `studio/multi-${i}`;
    const p = path.join(root, `point-${i}`);
    execFileSync('cp', ['-a', template, p]);
    const args = ['build', '--push', `${a.host}/${repo}`, '--push', `${proxy.host}/${repo}`];
    let release = () => {};
    const until = new Promise<void>((r) => (release = r));
    proxy.setRules([{ method: 'PUT', ...points[i]!.hold(repo), action: { kind: 'hold', until } }]);
    // Killed once b's request is held and a has the build whole: its line's tag moved to the record.
    const done = async () => proxy.fired[0]! > 0 && (await storedTags(a.storageDir, repo))[LINE] !== undefined;
    const killed = await killWhen(startCli(args, { cwd: p, env: HOLD_ENV }), done, { pollMs: 5 });
    // Held until the end of the test: released at once, it could still reach the registry during the checks.
    proxy.setRules([]);
    expect(killed.killed, JSON.stringify(killed)).toBe(true);

    expect(await storageProblems(a.storageDir)).toEqual([]);
    expect(await storageProblems(b.storageDir)).toEqual([]);
    expect(await storeProblems(store(p))).toEqual([]);
    expect(await recordProblems(path.join(p, '.gamelayer'), store(p))).toEqual([]);
    expect(imageTags(await storedTags(a.storageDir, repo))).toEqual(reference);
    const onB = await storedTags(b.storageDir, repo);
    expect(onB[LINE]).toBeUndefined();
    if (i === 0) expect(imageTags(onB)).toEqual({});
    else expect(imageTags(onB)).toEqual(reference);
    const had = { a: await linkedBlobs(a, repo), b: await linkedBlobs(b, repo) };

    await Promise.all([a.resetAccessLog(), b.resetAccessLog()]);
    const again = await runCli(args, { cwd: p });
    expect(again.code, again.stderr).toBe(0);
    for (const [r, name] of [[a, 'a'], [b, 'b']] as const) {
      expect(await storageProblems(r.storageDir)).toEqual([]);
      const tags = await storedTags(r.storageDir, repo);
      expect(imageTags(tags), name).toEqual(reference);
      expect(tags[LINE], name).toBe(tags['1.0.0.gamelayer-record']);
      // Nothing a registry had went to it again; a had everything, and b everything once its record was held (the
      // record's own blobs go up with it, after the images).
      const sent = await r.uploadedBlobs(repo);
      expect(sent.filter((d) => had[name].has(d)), name).toEqual([]);
      if (name === 'a' || i === 1) expect(sent, name).toEqual([]);
    }
    expect(await storeProblems(store(p))).toEqual([]);
    expect(await recordProblems(path.join(p, '.gamelayer'), store(p))).toEqual([]);
    release();
  });
});
