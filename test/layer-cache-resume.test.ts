// A cold build killed after it finished some layers: no build record exists yet, only the layer cache rows it saved
// after each layer (layer-cache.ts save()). The next build proves each row's blob is the tar of its planned entries
// (src/oci/layer-proof.ts) and reuses it: it neither builds nor writes those layers again, and gives the digests an
// uninterrupted build gives. (Rows no record vouched for were dropped and every layer built again: tens of GB on a
// real game.) The proofs run side by side, as many as the machine has cores (at most 8), each with its progress task.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { build } from '../src/pipeline/build.js';
import { silentReporter, type Reporter } from '../src/report/reporter.js';
import { makeBigGame, makeProject, type BigGame } from './support/big-game.js';
import { runCli } from './support/cli-process.js';
import { runCliKilledAtRename } from './support/kill-at-rename.js';

let root: string;
let game: BigGame;
let reference: { server: string; layers: number };

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-resume-'));
  game = await makeBigGame(root, 32e6, 300);
  const r = await runCli(['build', '--json'], { cwd: await makeProject(path.join(root, 'reference'), game) });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { images: { name: string; digest: string }[]; summary: { built: number } };
  reference = { server: out.images.find((i) => i.name === 'server')!.digest, layers: out.summary.built };
  expect(reference.layers).toBeGreaterThan(20);
}, 120_000);
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Each blob file of the store with what a rewrite would change (a new file renamed over it: inode and mtime). */
async function blobFiles(project: string): Promise<Map<string, string>> {
  const dir = path.join(project, '.gamelayer/oci/blobs/sha256');
  const out = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(path.join(dir, name), { bigint: true });
    out.set(name, `${st.ino}:${st.mtimeNs}`);
  }
  return out;
}

/** The layer digests the cache's rows name (the layers the killed build finished and saved). */
async function cachedLayers(project: string): Promise<string[]> {
  const text = await readFile(path.join(project, '.gamelayer/cache/layers.json'), 'utf8');
  const rows = JSON.parse(text.slice(text.indexOf('\n') + 1)) as Record<string, { layer: { digest: string } }[]>;
  return Object.values(rows).flatMap((r) => r.map((x) => x.layer.digest));
}

it('a cold build killed after some layers: the next build reuses the finished layers without writing them again', async () => {
  const project = await makeProject(path.join(root, 'killed'), game);
  // Killed once the cache file was saved the 8th time (kill-at-rename.ts: the rename that places it, counted in the
  // CLI); a save is made only when a row was added, so it holds 8 finished layers at least.
  const outcome = await runCliKilledAtRename(['build'], { target: /\/\.gamelayer\/cache\/layers\.json$/, nth: 8, at: 'done' }, { cwd: project });
  expect(outcome.killed, outcome.killed ? '' : `ended before the kill: ${JSON.stringify(outcome)}`).toBe(true);
  const finished = await cachedLayers(project);
  expect(finished.length).toBeGreaterThanOrEqual(8);
  expect(finished.length).toBeLessThan(reference.layers);
  const before = await blobFiles(project);

  const next = await runCli(['build', '--json'], { cwd: project });
  expect(next.stderr).toBe('');
  expect(next.code).toBe(0);
  const out = JSON.parse(next.stdout) as { images: { name: string; digest: string }[]; summary: { built: number; reused: number; layers: { digest: string; reused: boolean }[] } };
  expect(out.images.find((x) => x.name === 'server')!.digest).toBe(reference.server);
  // Every layer the killed build saved is reused, and only the others are built.
  const reused = new Set(out.summary.layers.filter((l) => l.reused).map((l) => l.digest));
  for (const d of finished) expect(reused.has(d), `${d} reused`).toBe(true);
  expect(out.summary.built).toBe(reference.layers - finished.length);
  // Their blobs are the killed build's files, untouched.
  const after = await blobFiles(project);
  for (const d of finished) expect(after.get(d.slice(7)), d).toBe(before.get(d.slice(7)));
}, 120_000);

it('the records gone: every layer is proven, side by side up to the number of cores, each with its progress task', async () => {
  const project = await makeProject(path.join(root, 'proofs'), game);
  const cold = await runCli(['build'], { cwd: project });
  expect(cold.code, cold.stderr).toBe(0);
  await rm(path.join(project, '.gamelayer/records'), { recursive: true });
  let open = 0;
  let most = 0;
  const proven: string[] = [];
  const reporter: Reporter = {
    ...silentReporter,
    task(label) {
      if (!label.includes('proving a cached layer')) return { tick() {}, done() {} };
      most = Math.max(most, ++open);
      return { tick() {}, done: (summary) => void (open--, proven.push(summary ?? 'not proven')) };
    },
  };
  const out = await build({ config: await loadConfig(path.join(project, 'gamelayer.yaml')), reporter });
  expect(out.record.images.find((x) => x.name === 'server')!.digest).toBe(reference.server);
  expect(out.summary.built).toBe(0);
  expect(proven).toHaveLength(reference.layers);
  for (const s of proven) expect(s).toMatch(/^layer [0-9a-f]{12} proven$/);
  // One blob streamed per proof: never more at once than the limit; several at once where there are cores.
  const limit = Math.min(8, os.availableParallelism());
  expect(most).toBeLessThanOrEqual(limit);
  expect(most).toBeGreaterThanOrEqual(Math.min(2, limit));
}, 120_000);
