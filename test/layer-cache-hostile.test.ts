// A layer cache edited with its checksum recomputed (.gamelayer/cache/layers.json): its rows map a layer's inputs to
// a blob, and every blob of the store is sound, so a row naming another layer's blob passed every check and the
// build shipped the engine's layer as the app's. A row must be of the inputs asked for, and of the tar the previous
// build recorded for them.
import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

type Row = { compressor: string; layer: { tree: string; index: number; inputKey: string; diffID: string; digest: string; size: number; mediaType: string } };

let game: string;
let reference: string[];
beforeAll(async () => {
  game = await tempDir();
  copySample(game);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: game });
  expect(built.code, built.stderr).toBe(0);
  // What a second build on an untouched copy gives (the copy's file times are its own).
  const again = await runCli(['build', '--tag', 'v2'], { cwd: await host() });
  expect(again.code, again.stderr).toBe(0);
  reference = serverImage(again.stdout);
  expect(reference.length).toBeGreaterThanOrEqual(4);
}, 120_000);

/** The layer table's tree, layer and digest columns (the status column says built or reused, which differs). */
const serverImage = (stdout: string) => [...stdout.matchAll(/^(engine|engine-media|app|app-media) +(\d+) .* (sha256:[0-9a-f]{12})$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

async function host(): Promise<string> {
  const dir = await tempDir();
  await cp(game, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return dir;
}

/** Rewrites the cache through `edit`, with a checksum that matches, as a deliberate edit would. */
async function editCache(dir: string, edit: (rows: Record<string, Row[]>) => void): Promise<string> {
  const file = path.join(dir, '.gamelayer/cache/layers.json');
  const text = await readFile(file, 'utf8');
  const nl = text.indexOf('\n');
  const rows = JSON.parse(text.slice(nl + 1)) as Record<string, Row[]>;
  edit(rows);
  const body = JSON.stringify(rows);
  const header = { ...(JSON.parse(text.slice(0, nl)) as object), sha256: createHash('sha256').update(body).digest('hex') };
  await writeFile(file, `${JSON.stringify(header)}\n${body}`);
  return file;
}

const first = (rows: Record<string, Row[]>, tree: string) => Object.entries(rows).find(([, r]) => r[0]!.layer.tree === tree && r[0]!.layer.index === 0)!;

/** The edit: the app layer's rows name the engine layer's blob (sound, in the store) and its diffID. */
function engineBlobUnderApp(rows: Record<string, Row[]>): void {
  const engine = first(rows, 'engine')[1][0]!.layer;
  for (const r of first(rows, 'app')[1]) Object.assign(r.layer, { diffID: engine.diffID, digest: engine.digest, size: engine.size, mediaType: engine.mediaType });
}

describe('a layer cache row naming another layer', () => {
  it("the engine layer's blob under the app layer's inputs: refused against the previous record, the app layer built again", async () => {
    const dir = await host();
    const file = await editCache(dir, engineBlobUnderApp);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used`);
  }, 120_000);

  it("the engine layer's row moved under the app layer's key, no previous record: refused for its inputs", async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    const file = await editCache(dir, (rows) => {
      const [appKey] = first(rows, 'app');
      rows[appKey] = first(rows, 'engine')[1].map((x) => ({ ...x, layer: { ...x.layer } }));
    });
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used`);
  }, 120_000);

  // The rows are checked against the previous build's record; with none (deleted, a state folder partly restored),
  // only another local record of these settings can vouch for a row: a row none names is not used.
  it("the engine layer's blob under the app layer's inputs, no record at all: not used, every layer built again", async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    const file = await editCache(dir, engineBlobUnderApp);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used (no build record of these settings names the layer of inputs`);
    expect(r.stdout).not.toMatch(/ reused /);
  }, 120_000);

  it('no previous record (build-last.json gone), another local record of these settings: its rows are used', async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records/build-last.json'));
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).not.toContain('layer cache row not used');
    expect(r.stdout).not.toMatch(/ built /);
  }, 120_000);
});
