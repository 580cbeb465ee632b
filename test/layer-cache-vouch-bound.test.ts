// A layer cache row the previous record does not name is vouched for by another local build record of these
// settings, or proven from its blob (src/oci/layer-proof.ts). Every record's summary was read for it, however many
// (.gamelayer/records/ keeps one per tag ever built; ~170 MB each to step through for a 1M-entry game). Only the
// newest few are read now (src/pipeline/recorded-layers.ts, test/recorded-layers.test.ts counts the reads): a row
// that only an older record names is proven from its blob and reused, the image the same.
import { cp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { vouching } from '../src/pipeline/recorded-layers.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let game: string;
let reference: string[];
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: game });
  expect(built.code, built.stderr).toBe(0);
  reference = layers(built.stdout);
  expect(reference.length).toBeGreaterThanOrEqual(4);
}, 120_000);

/** The layer table's tree, layer and digest columns. */
const layers = (stdout: string) => [...stdout.matchAll(/^(engine|engine-media|app|app-media) +(\d+) .* (sha256:[0-9a-f]{12})$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

/**
 * A copy of the game without its previous record (build-last.json), v1's record `newer` records old, the newer
 * ones of the same settings naming none of its layers' inputs (builds of other content).
 */
async function hostWithRecords(newer: number): Promise<string> {
  const dir = await tempDir();
  await cp(game, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const records = path.join(dir, '.gamelayer/records');
  await rm(path.join(records, 'build-last.json'));
  const v1 = JSON.parse(await readFile(path.join(records, 'build-v1.json'), 'utf8')) as { layers: { inputKey: string }[]; plan: { layers: { inputKey: string }[] } };
  const t = Date.now() / 1000 - 3600;
  await utimes(path.join(records, 'build-v1.json'), t, t);
  for (let i = 1; i <= newer; i++) {
    const other = structuredClone(v1);
    for (const l of [...other.layers, ...other.plan.layers]) l.inputKey = `${l.inputKey.slice(0, -2)}${String(i).padStart(2, '0')}`;
    const file = path.join(records, `build-other${i}.json`);
    await writeFile(file, JSON.stringify(other));
    await utimes(file, t + i * 60, t + i * 60);
  }
  return dir;
}

describe('local records vouching for layer cache rows, the newest few only', () => {
  it('v1 among the newest records: its rows are vouched for and reused, nothing proven or built', async () => {
    const dir = await hostWithRecords(vouching.records - 1);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(layers(r.stdout)).toEqual(reference);
    expect(r.stdout).not.toMatch(/ built /);
    expect(r.stderr).not.toContain('proving a cached layer');
    expect(r.stderr).not.toContain('layer cache row not used');
  }, 120_000);

  it('v1 older than the newest few: its rows are proven from their blobs and reused, the image the same', async () => {
    const dir = await hostWithRecords(vouching.records);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(layers(r.stdout)).toEqual(reference);
    expect(r.stdout).not.toMatch(/ built /);
    expect(r.stderr).not.toContain('layer cache row not used');
    // Every layer of the image proven (each row's blob read back against its planned entries), none vouched for.
    const proven = new Set([...r.stderr.matchAll(/^\S+: proving a cached layer no build record names: layer ([0-9a-f]{12}) proven/gm)].map((m) => `sha256:${m[1]}`));
    for (const l of reference) expect(proven, r.stderr).toContain(l.split(' ')[2]);
  }, 120_000);
});
