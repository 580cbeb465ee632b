// Steady-state benchmark (issue 16): N daily updates of a generated game, `build` + push to a real registry after
// each, bytes counted where the registry receives them (a counting proxy in front of it), and what a node pays:
// a node running update N downloads the layers it lacks and unpacks every layer from the first one that differs
// in the server image's stack (containerd keys unpacked layers by the chain below them). The reference for each
// update is the changed files' new content compressed as a layer would carry it.
import { cp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import path from 'node:path';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame, type Change } from '../fixtures/generator/mutate.js';
import { Keystream, Rng } from '../fixtures/generator/random.js';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_AVG_CHUNK_SIZE, DEFAULT_CHUNK_MIN_FILE_SIZE } from '../src/config/schema.js';
import { chooseChunks } from '../src/init/chunk-choice.js';
import { formatBytes, silentReporter } from '../src/report/reporter.js';
import { TREE_NAMES, type BuildRecord, type TreeName } from '../src/types.js';
import { chunkDiff } from '../src/diff/chunks.js';
import { diffManifests } from '../src/diff/diff.js';
import { startRegistry } from '../test/support/registry.js';
import { ageSince, compressedChange, countFiles } from './compare.js';
import { BENCH_DIR, OUT_DIR, machine } from './lib.js';
import { imageLayers, pullBytes, type LayerRef } from './pull-cost.js';
import { startCountingProxy } from './registry-proxy.js';
import { writeChunkReport, writeSteadyReport, type SteadyData, type SteadyUpdate } from './steady-report.js';

export interface SteadyBenchOptions {
  size: number;
  updates: number;
  seed: string;
  /**
   * Trees chunked for the run (`--chunk app-media`; docs/chunks.md), with their chunk sizes. Not given: the trees
   * `gamelayer init` chunks for the game (app media, when it holds a file of `chunkMin` or more), unless `wholeFiles`.
   */
  chunk?: TreeName[];
  /** Whole files in every tree (`--whole-files`): the month a studio gets that opts out of init's chunks. */
  wholeFiles?: boolean;
  chunkMin?: number;
  chunkAvg?: number;
  /**
   * What changes each day: `daily` (the month above), `insert` (bytes inserted in the middle of big paks: offsets
   * shift), `rewrite` (a big pak rewritten wholly). Any run but the plain daily one reports to steady-chunks.json.
   */
  scenario?: SteadyScenario;
  /** Report to steady-chunks.json even for a plain daily run (the whole-file reference of the chunk runs). */
  chunkReport?: boolean;
}

export type SteadyScenario = 'daily' | 'insert' | 'rewrite';

const REPO = 'steady/game';
const MB = 1e6;

/** The bytes a node holding `held` downloads and unpacks to run `next` (one image's chain). */
export function nodeCost(held: LayerRef[], next: LayerRef[]): { download: number; unpack: number } {
  let first = 0;
  while (first < held.length && first < next.length && held[first]!.digest === next[first]!.digest) first++;
  return { download: pullBytes(held, next), unpack: next.slice(first).reduce((n, l) => n + l.size, 0) };
}

/** One day's edits: assets in app-media (modify, resize, add, delete), a big pak rewritten in part now and then,
 * a few config and script edits, the app binary touched now and then, one engine upgrade in the month. */
export async function dailyUpdate(dir: string, day: number, opts: SteadyBenchOptions): Promise<{ changes: Change[]; what: string[] }> {
  const r = new Rng(opts.seed, 'steady', String(day));
  const scale = opts.size / 3.1e9;
  const changes: Change[] = [];
  const what: string[] = [];
  const mb = Math.max(1, Math.round(50 * scale * Math.exp(0.5 * r.normal()) * 10) / 10);
  const assets = await mutateGame({ dir, seed: `${opts.seed}/day${day}`, mb, smallAppChanges: r.int(1, 6) });
  changes.push(...assets.changes);
  what.push(`${mb} MB assets`);
  if (r.float() < 0.2) {
    const paks = (await filesOf(path.join(dir, 'app-media'))).filter((f) => f.size >= 40 * MB * scale && f.path.endsWith('.pak'));
    if (paks.length) {
      const pak = r.pick(paks);
      const part = Math.max(4096, Math.round(pak.size * (0.01 + 0.04 * r.float())));
      await rewritePart(path.join(dir, 'app-media', pak.path), r.int(0, pak.size - part), part, `${opts.seed}/pak/${day}`);
      changes.push({ tree: 'app-media', op: 'modify', path: pak.path, before: pak.size, after: pak.size, bytesWritten: part });
      what.push(`${pak.path} (${formatBytes(pak.size)}) rewritten in part`);
    }
  }
  if (r.float() < 0.3) {
    const bin = (await filesOf(path.join(dir, 'app'))).sort((a, b) => b.size - a.size)[0]!;
    const part = Math.min(bin.size, Math.max(4096, Math.round(MB * scale)));
    await rewritePart(path.join(dir, 'app', bin.path), r.int(0, bin.size - part), part, `${opts.seed}/bin/${day}`);
    changes.push({ tree: 'app', op: 'modify', path: bin.path, before: bin.size, after: bin.size, bytesWritten: part });
    what.push(`app binary ${bin.path} (${formatBytes(bin.size)}) touched`);
  }
  if (day === Math.round(0.6 * opts.updates)) {
    const up = await mutateGame({ dir, seed: `${opts.seed}/engine${day}`, engineUpgrade: true });
    changes.push(...up.changes);
    what.push('engine upgrade');
  }
  return { changes, what };
}

/** The chunk scenarios' day: only big paks change, so the bytes written are known exactly. */
async function pakUpdate(dir: string, day: number, opts: SteadyBenchOptions): Promise<{ changes: Change[]; what: string[] }> {
  const r = new Rng(opts.seed, opts.scenario!, String(day));
  const paks = (await filesOf(path.join(dir, 'app-media'))).filter((f) => f.size >= (opts.chunkMin ?? 0) && f.path.endsWith('.pak'));
  if (!paks.length) throw new Error(`no .pak of at least ${formatBytes(opts.chunkMin ?? 0)} in app-media: lower --chunk-min`);
  const changes: Change[] = [];
  const what: string[] = [];
  if (opts.scenario === 'rewrite') {
    const pak = r.pick(paks);
    await rewritePart(path.join(dir, 'app-media', pak.path), 0, pak.size, `${opts.seed}/whole/${day}`);
    changes.push({ tree: 'app-media', op: 'modify', path: pak.path, before: pak.size, after: pak.size, bytesWritten: pak.size });
    what.push(`${pak.path} (${formatBytes(pak.size)}) rewritten wholly`);
  } else {
    for (const pak of [r.pick(paks), r.pick(paks)]) {
      const part = Math.max(4096, Math.round(pak.size * (0.002 + 0.008 * r.float())));
      const at = r.int(Math.floor(pak.size / 4), Math.floor((3 * pak.size) / 4));
      const file = path.join(dir, 'app-media', pak.path);
      const old = await readFile(file);
      const prev = changes.find((c) => c.path === pak.path);
      // A second insertion into the same pak the same day gets its own bytes (the same seed would repeat the first's,
      // whose chunks the registry then already has). Other days keep their bytes.
      const seed = `${opts.seed}/ins/${day}${prev ? '/2' : ''}`;
      await writeFile(file, Buffer.concat([old.subarray(0, at), new Keystream(seed, pak.path).next(part), old.subarray(at)]));
      if (prev) {
        prev.after! += part;
        prev.bytesWritten += part;
      } else changes.push({ tree: 'app-media', op: 'modify', path: pak.path, before: pak.size, after: pak.size + part, bytesWritten: part });
      pak.size += part;
      what.push(`${formatBytes(part)} inserted into ${pak.path}`);
    }
  }
  return { changes, what };
}

/** The bytes written to the changed files, compressed: each file's compressed size scaled by its written share. */
async function writtenCompressed(dir: string, changes: Change[]): Promise<number> {
  let n = 0;
  for (const c of changes) {
    if (!c.after) continue;
    const whole = await compressedChange(dir, { changes: [c] } as never);
    n += Math.round((whole * Math.min(c.bytesWritten, c.after)) / c.after);
  }
  return n;
}

/**
 * The trees chunked for the month: those named (`--chunk`), none under `--whole-files`, else what `gamelayer init`
 * writes for the game, asked at the size the month chunks from (`--chunk-min`): a game whose biggest pak is under
 * init's 64 MiB but over the month's threshold is chunked, not run as whole files.
 */
export async function steadyChunks(dir: string, opts: Pick<SteadyBenchOptions, 'chunk' | 'wholeFiles' | 'chunkMin'>): Promise<TreeName[]> {
  if (opts.chunk?.length) return opts.chunk;
  if (opts.wholeFiles) return [];
  return (await chooseChunks(dir, 'app-media', false, opts.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE))?.chunked ? ['app-media'] : [];
}

/** `trees.<tree>.chunks` set in the work copy's gamelayer.yaml. */
async function enableChunks(file: string, opts: SteadyBenchOptions): Promise<void> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  for (const t of opts.chunk ?? []) doc.setIn(['trees', t, 'chunks'], { minFileSize: opts.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE, avgChunkSize: opts.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE });
  await writeFile(file, doc.toString());
}

async function filesOf(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out.push({ path: path.relative(root, abs), size: (await stat(abs)).size });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Overwrites `length` bytes at `offset` in place with seeded bytes: a partial rewrite, as a pak patcher does. */
async function rewritePart(file: string, offset: number, length: number, seed: string): Promise<void> {
  const ks = new Keystream(seed, file);
  const fh = await open(file, 'r+');
  try {
    for (let done = 0; done < length; ) {
      const n = Math.min(1 << 20, length - done);
      await fh.write(ks.next(n), 0, n, offset + done);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

async function treeContentBytes(dir: string): Promise<Record<TreeName, number>> {
  const out = {} as Record<TreeName, number>;
  for (const t of TREE_NAMES) out[t] = (await countFiles(path.join(dir, t))).bytes;
  return out;
}

export async function steadyBench(opts: SteadyBenchOptions): Promise<void> {
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`steady [${((Date.now() - started) / 60_000).toFixed(1)} min]: ${m}\n`);
  const pristine = path.join(OUT_DIR, `steady-game-${opts.size}`);
  if (!(await stat(path.join(pristine, 'gamelayer.yaml')).then(() => true, () => false))) {
    log(`generating ${formatBytes(opts.size)} into ${pristine}`);
    await rm(pristine, { recursive: true, force: true });
    await generateGame({ out: pristine, size: opts.size, seed: 'bench-steady', game: 'steady-game' });
  }
  const dir = path.join(OUT_DIR, `steady-work-${opts.size}`);
  await rm(dir, { recursive: true, force: true });
  await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
  await ageSince(dir, 0);
  const chunk = await steadyChunks(dir, opts);
  if (chunk.length) opts = { ...opts, chunk };
  const registry = await startRegistry();
  const [host, port] = registry.host.split(':');
  const proxy = await startCountingProxy({ host: host!, port: Number(port) });
  const variant = !!opts.chunkReport || (opts.scenario !== undefined && opts.scenario !== 'daily') || (opts.chunk?.length ?? 0) > 0;
  if (opts.chunk?.length) await enableChunks(path.join(dir, 'gamelayer.yaml'), opts);
  const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
  const repository = `${proxy.host}/${REPO}`;
  const updates: SteadyUpdate[] = [];
  const snapshot = (): SteadyData => ({ date: new Date().toISOString().slice(0, 10), machine: machine(), options: opts, updates, totalSeconds: (Date.now() - started) / 1000 });
  let held: LayerRef[] = [];
  let prevRecord: BuildRecord | undefined;
  let heldPod: LayerRef[][] = [];
  const buildAndPush = async (tag: string) => {
    const before = proxy.counts();
    const t0 = Date.now();
    const r = await build({ config, tag, reporter: silentReporter });
    await pushBuild({ store: r.store, record: r.record, repository, reporter: silentReporter });
    const ms = Date.now() - t0;
    const after = proxy.counts();
    return { r, ms, sent: after.uploadBytes - before.uploadBytes, manifests: after.manifestBytes - before.manifestBytes };
  };
  try {
    for (let day = 0; day <= opts.updates; day++) {
      const since = Date.now() - 1000;
      const change = day === 0 ? { changes: [] as Change[], what: ['cold build'] } : (opts.scenario ?? 'daily') === 'daily' ? await dailyUpdate(dir, day, opts) : await pakUpdate(dir, day, opts);
      await ageSince(dir, since);
      const changedCompressed = day === 0 ? 0 : await compressedChange(dir, { changes: change.changes } as never);
      const written = day === 0 ? 0 : await writtenCompressed(dir, change.changes);
      const tag = `day${String(day).padStart(2, '0')}`;
      const { r, ms, sent, manifests } = await buildAndPush(tag);
      const server = await imageLayers(registry.url, REPO, tag);
      const pod = await Promise.all(TREE_NAMES.map((t) => imageLayers(registry.url, REPO, `${tag}-${t}`)));
      const node = nodeCost(held, server);
      const podCost = pod.map((img, i) => nodeCost(heldPod[i] ?? [], img));
      const treeContent = await treeContentBytes(dir);
      const content = TREE_NAMES.reduce((n, t) => n + treeContent[t], 0);
      const chunks = prevRecord ? diffManifests(prevRecord.manifests, r.record.manifests).flatMap((d) => chunkDiff(d) ?? []) : [];
      prevRecord = r.record;
      const u: SteadyUpdate = {
        day,
        what: change.what,
        changedFiles: change.changes.filter((c) => c.after !== null).length,
        changedCompressed,
        writtenCompressed: written,
        ...(chunks.length ? { newChunkBytes: chunks.reduce((n, c) => n + c.newChunkBytes, 0) } : {}),
        sent,
        manifestBytes: manifests,
        download: node.download,
        unpack: node.unpack,
        podDownload: pullBytes(heldPod.flat(), pod.flat()),
        podUnpack: podCost.reduce((n, c) => n + c.unpack, 0),
        imageBytes: server.reduce((n, l) => n + l.size, 0),
        layerContent: r.summary.layers.reduce((n, l) => n + l.bytes, 0),
        content,
        layers: server.length,
        // What a fresh node pulls per tree image (compressed), beside each tree's content: issue 20's fresh-node figure.
        treeImageBytes: Object.fromEntries(TREE_NAMES.map((t, i) => [t, pod[i]!.reduce((n, l) => n + l.size, 0)])) as Record<TreeName, number>,
        treeContent,
        ms,
        decisions: Object.fromEntries(r.summary.trees.map((t) => [t.tree, t.reason ? `${t.decision}: ${t.reason}` : t.decision])) as Record<TreeName, string>,
      };
      updates.push(u);
      held = server;
      heldPod = pod;
      if (day > 0 && !variant) await writeSteadyReport(snapshot(), true);
      // A variant run's figures so far, so that an interrupted month is not lost (steady-report --from FILE renders them).
      if (variant) await writeFile(path.join(OUT_DIR, 'steady-variant-progress.json'), `${JSON.stringify(snapshot(), null, 1)}\n`);
      log(
        `day ${day}: ${change.what.join(', ')}; changed ${formatBytes(changedCompressed)} compressed (written ${formatBytes(written)}${chunks.length ? `, new chunks ${formatBytes(chunks.reduce((n, c) => n + c.newChunkBytes, 0))}` : ''}), sent ${formatBytes(sent)}, ` +
          `node ${formatBytes(u.download)} down / ${formatBytes(u.unpack)} unpacked, image ${(u.imageBytes / content).toFixed(3)}× content, ${u.layers} layers (${(ms / 1000).toFixed(1)} s)`,
      );
    }
    // A no-op build and push, then the same content under a new tag.
    const last = `day${String(opts.updates).padStart(2, '0')}`;
    const noop = await buildAndPush(last);
    const retag = await buildAndPush(`${last}-again`);
    log(`no-op: ${noop.sent} B sent; new tag: ${retag.sent} B sent (${retag.manifests} B of manifests)`);
    const data: SteadyData = { ...snapshot(), noop: { sent: noop.sent }, retag: { sent: retag.sent, manifests: retag.manifests } };
    if (variant) {
      // Chunk and scenario runs keep their own figures: the month above stays the reference run's.
      await writeChunkReport(data);
      // A month of the daily mix with chunked trees also gets the full section (issues 16 and 20 side by side).
      if ((opts.scenario ?? 'daily') === 'daily' && opts.chunk?.length) await writeSteadyReport(data, false, 'chunked');
      return;
    }
    await writeFile(path.join(BENCH_DIR, 'steady.json'), `${JSON.stringify(data, null, 1)}\n`);
    await writeSteadyReport(data);
  } finally {
    await proxy.close();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
