// A layer cache edited with its checksum recomputed (.gamelayer/cache/layers.json): its rows map a layer's inputs to
// a blob, and every blob of the store is sound, so a row naming another layer's blob passed every check and the
// build shipped the engine's layer as the app's. A row must be of the inputs asked for, and of the tar a build record
// gives them, or with no record its blob must be proven the tar of the layer's planned entries.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
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

/** Each layer's tree, index and whether the build built or reused it, from the layer table. */
const status = (stdout: string) => [...stdout.matchAll(/^(engine|engine-media|app|app-media) +(\d+) .*\b(built|reused)\b/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);

async function readRows(dir: string): Promise<Record<string, Row[]>> {
  const text = await readFile(path.join(dir, '.gamelayer/cache/layers.json'), 'utf8');
  return JSON.parse(text.slice(text.indexOf('\n') + 1)) as Record<string, Row[]>;
}

/** A tar member as gamelayer writes them (one ustar header, no PAX in the sample), its body unpadded. */
type Member = { header: Buffer; body: Buffer };

function splitTar(tar: Buffer): Member[] {
  const out: Member[] = [];
  for (let off = 0; off + 512 <= tar.length && tar[off] !== 0; ) {
    const header = tar.subarray(off, off + 512);
    const size = parseInt(header.toString('latin1', 124, 136).replace(/\0/g, '').trim() || '0', 8);
    out.push({ header, body: tar.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function joinTar(members: Member[]): Buffer {
  const parts = members.flatMap((m) => [m.header, m.body, Buffer.alloc((512 - (m.body.length % 512)) % 512)]);
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

const firstFile = (m: Member[]) => m.findIndex((x) => x.header[156] === 0x30 && x.body.length > 0);
const flipped = (b: Buffer) => Buffer.concat([Buffer.from([b[0]! ^ 0xff]), b.subarray(1)]);

/** The header with another mode and its checksum made again, as a tar tool would write it. */
function withMode(header: Buffer, mode: number): Buffer {
  const h = Buffer.from(header);
  h.write(`${mode.toString(8).padStart(6, '0')} \0`, 100, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
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

  // The rows are checked against the previous build's record; with none (deleted, a state folder partly restored,
  // a cold build killed part-way) a row is used only once its blob is read back and found to be the tar of the
  // layer's planned entries (src/oci/layer-proof.ts): the edited row fails that, the sound ones pass it.
  it("the engine layer's blob under the app layer's inputs, no record at all: refused by its blob, the others proven and reused", async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    const file = await editCache(dir, engineBlobUnderApp);
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used (its blob sha256:`);
    expect(r.stderr).toContain('differs from the planned tar at opt/local/app');
    expect(status(r.stdout)).toEqual(reference.map((l) => `${l.split(' ').slice(0, 2).join(' ')} ${l.startsWith('app 0 ') ? 'built' : 'reused'}`));
  }, 120_000);

  // A blob made for the row (its digest, size and diffID all its own, the store's checks all passing) whose tar is the
  // app layer's with one change: only reading the tar against the planned entries finds it.
  const tampered: [string, (m: Member[]) => Member[], string][] = [
    ['a file\'s bytes changed (same size)', (m) => m.map((x, i) => (i === firstFile(m) ? { ...x, body: flipped(x.body) } : x)), 'with content of xxh64'],
    ['an entry added at the end', (m) => [...m, m[firstFile(m)]!], 'holds more than the planned entries'],
    ['an entry missing', (m) => m.filter((_, i) => i !== m.length - 1), 'ends before'],
    ['an entry\'s mode changed', (m) => m.map((x, i) => (i === firstFile(m) ? { ...x, header: withMode(x.header, 0o777) } : x)), 'differs from the planned tar at'],
  ];
  it.each(tampered)('no record at all, the app layer\'s row names a tar with %s: refused, the layer built again', async (_name, edit, problem) => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    const blobs = path.join(dir, '.gamelayer/oci/blobs/sha256');
    const row = first(await readRows(dir), 'app')[1][0]!.layer;
    const tar = gunzipSync(await readFile(path.join(blobs, row.digest.slice(7))));
    const forged = joinTar(edit(splitTar(tar)));
    expect(forged.equals(tar)).toBe(false);
    const gz = gzipSync(forged);
    const digest = createHash('sha256').update(gz).digest('hex');
    await writeFile(path.join(blobs, digest), gz);
    const file = await editCache(dir, (rows) => {
      for (const r of first(rows, 'app')[1]) Object.assign(r.layer, { digest: `sha256:${digest}`, size: gz.length, diffID: `sha256:${createHash('sha256').update(forged).digest('hex')}` });
    });
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used (its blob sha256:${digest.slice(0, 12)}`);
    expect(r.stderr).toContain(problem);
    expect(status(r.stdout).find((l) => l.startsWith('app 0 '))).toBe('app 0 built');
  }, 120_000);

  it("no record at all, the app layer's row with its own blob but a wrong diffID: refused, the layer built again", async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    const file = await editCache(dir, (rows) => {
      for (const r of first(rows, 'app')[1]) r.layer.diffID = `sha256:${'0'.repeat(64)}`;
    });
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(r.stderr).toContain(`${file}: layer cache row not used (its blob sha256:`);
    expect(r.stderr).toContain("not the row's diffID sha256:0000000000");
    expect(status(r.stdout).find((l) => l.startsWith('app 0 '))).toBe('app 0 built');
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

describe('a layer cache row that is no object', () => {
  // A null (or a number) among a key's rows was error[internal] in the build's lookup and in gc, whose methods read
  // each row's compressor and layer. Such rows are dropped as the file is read; the sound rows beside them are used.
  it('null and 5 beside the app layer\'s row, no record: the build reuses every layer, gc runs, the rows are gone', async () => {
    const dir = await host();
    await rm(path.join(dir, '.gamelayer/records'), { recursive: true });
    await editCache(dir, (rows) => {
      const [appKey, appRows] = first(rows, 'app');
      rows[appKey] = [null, ...appRows, 5] as unknown as Row[];
    });
    const r = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(r.stderr).not.toContain('error[');
    expect(r.code).toBe(0);
    expect(serverImage(r.stdout)).toEqual(reference);
    expect(status(r.stdout).every((l) => l.endsWith(' reused'))).toBe(true);
    const gc = await runCli(['gc', '--apply'], { cwd: dir });
    expect(gc.stderr).not.toContain('error[');
    expect(gc.code).toBe(0);
    expect(Object.values(await readRows(dir)).flat().every((row) => row !== null && typeof row === 'object')).toBe(true);
  }, 120_000);
});
