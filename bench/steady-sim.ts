// The steady bench's month, on the planner alone: the generated game's file list (fixtures planGame, no bytes
// written) and the same kind of daily edits, planned by planIncremental day after day. Content bytes stand for
// compressed bytes (the big files of a generated game are random and stored as they are). Seconds instead of the
// real bench's half hour: for weighing compaction settings (docs/compaction.md), not for the reported figures.
//   npx tsx bench/steady-sim.ts [SIZE_BYTES] [UPDATES] [key=value…]
// key=value: settings of IncrementalOptions (numbers), `order=engine-media,app-media,engine,app` (freshOrder), and
// the chunk model `chunkMin=BYTES [chunkAvg=BYTES] [chunk=app-media,app]` (the trees named, app-media by default,
// chunked as docs/chunks.md does it: files from chunkMin up are chunk entries of about chunkAvg bytes plus a recipe;
// a partial rewrite of such a file replaces the chunks it overlaps and the one after them, a boundary moved).
// Bytes sent, changed, written and unpacked are counted compressed as the real bench counts them: text assets
// (by name, as the generator writes them) at TEXT_RATIO of their size, everything else as it is. Each day's layers
// reach the next day's plan with those compressed sizes, as a build record holds them (the planner's dead limit is
// on the compressed image; `packed=0` plans without them, the limit then on content as before the fourth round).
// The total line gives the layers' content over the game's ("image/content") and the compressed image's over it,
// and each tree image's compressed layers over the tree's own content (a pod pulls one image per tree).
// `replay=FILE` plans the real bench's own edits (written by bench/steady-edits.ts for the same size and updates)
// instead of the simulator's: the same files changed, added and removed on the same days, and the same paks and
// binary rewritten in part (at a seeded offset, which only moves the chunks a rewrite replaces).
import { readFileSync } from 'node:fs';
import type { Change } from '../fixtures/generator/mutate.js';
import { planGame, defaultFileCount } from '../fixtures/generator/plan.js';
import { Rng } from '../fixtures/generator/random.js';
import { sameEntry } from '../src/diff/diff.js';
import { planIncremental, stateOf, SERVER_STACK_ORDER, type IncrementalOptions, type PreviousTree } from '../src/plan/incremental.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { isTextKind, kindForName } from '../fixtures/generator/content.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';

const size = Number(process.argv[2] ?? 3.1e9);
const updates = Number(process.argv[3] ?? 30);
const args = Object.fromEntries(process.argv.slice(4).map((a) => a.split('=')).map(([k, v]) => [k!, v!]));
const chunkMin = Number(args.chunkMin ?? 0);
const chunkAvg = Number(args.chunkAvg ?? 2 ** 20);
const chunkTrees = new Set((args.chunk ?? 'app-media').split(',') as TreeName[]);
const replay = args.replay ? (JSON.parse(readFileSync(args.replay, 'utf8')) as { size: number; days: { day: number; changes: Change[] }[] }) : undefined;
if (replay && replay.size !== size) throw new Error(`${args.replay}: edits of a ${replay.size}-byte game, not ${size}`);
const order = args.order ? (args.order.split(',') as TreeName[]) : SERVER_STACK_ORDER;
const settings = Object.fromEntries(Object.entries(args).filter(([k]) => !['chunkMin', 'chunkAvg', 'order', 'chunk', 'replay', 'bound', 'packed'].includes(k)).map(([k, v]) => [k, Number(v)]));
const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: IncrementalOptions = { targetSize: 512 * 2 ** 20, maxLayers: 100, mounts, freshOrder: order, ...settings };

/** Deflate level 1 on the generator's text kinds (xml, cfg, lua, json, txt), 64 KiB–1 MiB files: 0.23–0.31. */
const TEXT_RATIO = 0.27;
const ratio = (path: string) => (isTextKind(kindForName(path)) ? TEXT_RATIO : 1);
const packed = (l: PlannedLayer) => l.entries.reduce((n, e) => n + e.size * ratio(e.path), 0);

let serial = 0;
const entry = (path: string, size: number): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: (++serial).toString(16).padStart(16, '0') });
const plan = planGame({ size, files: defaultFileCount(size), seed: 'bench-steady', game: 'steady-game' });
const game = Object.fromEntries(TREE_NAMES.map((t) => [t, new Map<string, FileEntry>()])) as Record<TreeName, Map<string, FileEntry>>;
for (const f of plan.files) game[f.tree].set(f.path, entry(f.path, f.size));

// The chunk model: app-media's big files as chunk lists; each chunk a manifest entry, each list a recipe entry.
const chunkRng = new Rng('steady-sim', 'chunks');
const recipes = Object.fromEntries(TREE_NAMES.map((t) => [t, new Map<string, FileEntry[]>()])) as Record<TreeName, Map<string, FileEntry[]>>;
const recipeEntries = Object.fromEntries(TREE_NAMES.map((t) => [t, new Map<string, FileEntry>()])) as Record<TreeName, Map<string, FileEntry>>;
let chunkSerial = 0;
function newChunks(bytes: number): FileEntry[] {
  const out: FileEntry[] = [];
  for (let left = bytes; left > 0; ) {
    const n = Math.min(left, Math.round(Math.min(4, Math.max(0.25, Math.exp(0.5 * chunkRng.normal()))) * chunkAvg));
    const id = (++chunkSerial).toString(16).padStart(8, '0');
    out.push(entry(`.gamelayer-chunks/c/${id.slice(-2)}/${id}`, n));
    left -= n;
  }
  return out;
}
function setRecipe(t: TreeName, path: string, chunks: FileEntry[]): void {
  recipes[t].set(path, chunks);
  recipeEntries[t].set(path, entry(`.gamelayer-chunks/r/${path}`, 120 + 74 * chunks.length));
}
/** A file of a chunked tree written: whole (`region` absent) or a byte range of it in place. */
function chunkWrite(t: TreeName, path: string, bytes: number, region?: { at: number; length: number }): void {
  if (!chunkMin || !chunkTrees.has(t)) return;
  if (bytes < chunkMin) {
    recipes[t].delete(path);
    recipeEntries[t].delete(path);
    return;
  }
  const old = recipes[t].get(path);
  if (!region || !old) return setRecipe(t, path, newChunks(bytes));
  let from = 0;
  let offset = 0;
  while (from < old.length && offset + old[from]!.size <= region.at) offset += old[from++]!.size;
  let to = from;
  let end = offset;
  while (to < old.length && end < region.at + region.length) end += old[to++]!.size;
  to = Math.min(old.length, to + 1); // the boundary after the edit moves now and then: one chunk more
  const replaced = old.slice(from, to).reduce((n, c) => n + c.size, 0);
  setRecipe(t, path, [...old.slice(0, from), ...newChunks(replaced), ...old.slice(to)]);
}
if (chunkMin) for (const t of chunkTrees) for (const f of game[t].values()) chunkWrite(t, f.path, f.size);

function manifests(): TreeManifest[] {
  return TREE_NAMES.map((t) => {
    if (!chunkTrees.has(t) || !chunkMin) return makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs([...game[t].values()]));
    const whole = [...game[t].values()].filter((e) => !recipes[t].has(e.path));
    const chunks = [...recipes[t].values()].flat();
    const m = makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs([...whole, ...chunks, ...recipeEntries[t].values()]));
    const lists = [...recipes[t]].map(([path, cs]) => ({ path, size: cs.reduce((n, c) => n + c.size, 0), xxh64: '', sha256: '', chunks: '' }));
    return { ...m, chunks: { minFileSize: chunkMin, avgChunkSize: chunkAvg }, recipes: lists };
  });
}
function previousOf(ms: TreeManifest[], layers: PlannedLayer[]): Partial<Record<TreeName, PreviousTree>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const m of ms) {
    const own = layers.map((l, i) => [l, i] as const).filter(([l]) => l.tree === m.tree);
    // The record's compressed sizes: what the build measured (here the model's), unless `packed=0` (the limit on content).
    out[m.tree] = { manifest: m, layers: own.map(([l]) => l), positions: own.map(([, i]) => i), ...(args.packed === '0' ? {} : { packed: own.map(([l]) => packed(l)) }) };
  }
  return out;
}

let boundCost = 0;
let ms = manifests();
const manifests0 = ms;
let layers = planIncremental(ms, {}, opts).layers;
const totals = { changed: 0, written: 0, sent: 0, unpack: 0, podUnpack: 0, worst: 0, worstDay: 0, worstWritten: 0, worstWrittenDay: 0, maxDead: 0, maxPacked: 0, maxLayers: layers.length };
const treeMax = Object.fromEntries(TREE_NAMES.map((t) => [t, 0])) as Record<TreeName, number>;
const content0 = ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);
const scale = size / 3.1e9;
for (let day = 1; day <= updates; day++) {
  const r = new Rng('steady-sim', String(day));
  let changed = 0;
  let written = 0;
  const set = (t: TreeName, path: string, bytes: number, region?: { at: number; length: number }) => {
    game[t].set(path, entry(path, bytes));
    chunkWrite(t, path, bytes, region);
    changed += bytes * ratio(path);
    written += (region?.length ?? bytes) * ratio(path);
  };
  if (replay) {
    const edits = replay.days.find((d) => d.day === day);
    if (!edits) throw new Error(`${args.replay}: no edits for day ${day}`);
    const at = new Rng('steady-sim', String(day), 'replay');
    for (const c of edits.changes) {
      if (c.after === null) {
        game[c.tree].delete(c.path);
        chunkWrite(c.tree, c.path, 0);
        continue;
      }
      // A file rewritten in part (a pak, the app binary) keeps its size: its written bytes are a region of it.
      const part = c.op === 'modify' && c.bytesWritten < c.after ? { at: at.int(0, c.after - c.bytesWritten), length: c.bytesWritten } : undefined;
      set(c.tree, c.path, c.after, part);
      if (!part && c.bytesWritten < c.after) written -= (c.after - c.bytesWritten) * ratio(c.path); // an edit appends a line
    }
  } else {
    // Assets: modify 40 %, resize 20 %, add 30 %, delete 10 %, files no bigger than what is left of the day's budget.
    let left = Math.max(1e6, 50e6 * scale * Math.exp(0.5 * r.normal()));
    const media = [...game['app-media'].values()];
    for (let guard = 0; left > 1024 && guard < 10_000; guard++) {
      const op = r.float();
      const f = r.pick(media);
      if (op < 0.3) {
        const bytes = Math.min(left, Math.round(256 * 1024 * Math.exp(1.2 * r.normal())));
        // With the extension of the file it lands beside, as the generator's adds do (a new texture among textures).
        set('app-media', `${f.path.replace(/[^/]*$/, '')}patch_${day}_${guard}${/\.[^./]*$/.exec(f.path)?.[0] ?? '.dat'}`, bytes);
        left -= bytes;
      } else if (f.size <= left && game['app-media'].has(f.path)) {
        if (op < 0.4) {
          game['app-media'].delete(f.path);
          chunkWrite('app-media', f.path, 0);
        }
        else set('app-media', f.path, op < 0.6 ? Math.max(1, Math.round(f.size * (0.5 + r.float()))) : f.size);
        left -= f.size;
      }
    }
    for (let i = r.int(1, 6); i > 0; i--) {
      const small = [...game.app.values()].filter((e) => e.size <= 64 * 1024);
      const f = r.pick(small);
      set('app', f.path, f.size + 60);
    }
    if (r.float() < 0.2) {
      const paks = media.filter((f) => f.size >= 40e6 * scale && f.path.endsWith('.pak'));
      if (paks.length) {
        const p = r.pick(paks);
        // The part rewritten in place (1–5 %, as the steady bench does), from its own stream: the whole-file month's
        // edits stay those of the runs in docs/compaction.md.
        const pr = new Rng('steady-sim', String(day), 'pak');
        const length = Math.round(p.size * (0.01 + 0.04 * pr.float()));
        set('app-media', p.path, p.size, { at: pr.int(0, p.size - length), length });
      }
    }
    if (r.float() < 0.3) {
      // About 1 MB of it rewritten in place, as the steady bench touches it.
      const bin = [...game.app.values()].sort((a, b) => b.size - a.size)[0]!;
      const length = Math.min(bin.size, Math.round(1e6 * scale));
      set('app', bin.path, bin.size, { at: Math.floor((bin.size - length) / 2), length });
    }
    if (day === Math.round(0.6 * updates)) for (const f of [...game.engine.values()]) set('engine', f.path, f.size);
  }
  const next = manifests();
  const inc = planIncremental(next, previousOf(ms, layers), opts);
  const before = new Set(layers.map((l) => l.inputKey));
  const sent = inc.layers.filter((l) => !before.has(l.inputKey)).reduce((n, l) => n + packed(l), 0);
  let first = 0;
  while (first < layers.length && first < inc.layers.length && layers[first]!.inputKey === inc.layers[first]!.inputKey) first++;
  const unpack = inc.layers.slice(first).reduce((n, l) => n + packed(l), 0);
  // A pod of tree images: each tree is its own chain.
  let podUnpack = 0;
  for (const t of TREE_NAMES) {
    const a = layers.filter((l) => l.tree === t);
    const b = inc.layers.filter((l) => l.tree === t);
    let i = 0;
    while (i < a.length && i < b.length && a[i]!.inputKey === b[i]!.inputKey) i++;
    podUnpack += b.slice(i).reduce((n, l) => n + packed(l), 0);
  }
  const content = next.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);
  const dead = inc.layers.reduce((n, l) => n + l.bytes, 0) / content;
  totals.changed += changed;
  totals.written += written;
  totals.sent += sent;
  totals.unpack += unpack;
  totals.podUnpack += podUnpack;
  if (sent / Math.max(written, 1) > totals.worstWritten) {
    totals.worstWritten = sent / Math.max(written, 1);
    totals.worstWrittenDay = day;
  }
  if (sent / Math.max(changed, 1) > totals.worst) {
    totals.worst = sent / Math.max(changed, 1);
    totals.worstDay = day;
  }
  totals.maxDead = Math.max(totals.maxDead, dead);
  totals.maxPacked = Math.max(totals.maxPacked, inc.layers.reduce((n, l) => n + packed(l), 0) / content);
  totals.maxLayers = Math.max(totals.maxLayers, inc.layers.length);
  // Each tree image (a pod pulls one per tree): its compressed layers over the tree's own content.
  for (const m of next) {
    const treeContent = m.entries.reduce((k, e) => k + e.size, 0);
    const image = inc.layers.filter((l) => l.tree === m.tree).reduce((n, l) => n + packed(l), 0);
    if (treeContent > 0) treeMax[m.tree] = Math.max(treeMax[m.tree], image / treeContent);
  }
  const notes = Object.entries(inc.decisions).filter(([, d]) => d.reason).map(([t, d]) => `${t}: ${d.reason}`).join('; ');
  process.stdout.write(
    `day ${String(day).padStart(2)}: changed ${(changed / 1e6).toFixed(1).padStart(7)} MB, written ${(written / 1e6).toFixed(1).padStart(7)}, sent ${(sent / 1e6).toFixed(1).padStart(7)}, ` +
      `unpack ${(unpack / 1e6).toFixed(1).padStart(7)} (pod ${(podUnpack / 1e6).toFixed(1)}), image/content ${dead.toFixed(3)}, ${inc.layers.length} layers  ${notes.slice(0, 160)}\n`,
  );
  if (args.bound) {
    // What any compaction must at least have pushed by today to hold the dead-byte limit, on this month's layers
    // (run with the limit lifted: maxDeadShare=100 compactDeadShare=100): the dead bytes over the limit, taken from
    // the layers with the fewest live (compressed) bytes per dead byte, at today's dead shares (the highest they
    // reach by today: a compaction on an earlier day finds fewer dead bytes for the same live ones).
    const limit = (opts.maxDeadShare ?? 0.15) === 100 ? 0.15 : Number(args.bound);
    const rows = inc.layers.map((l) => ({ l, live: 0, livePacked: 0, liveChunks: 0 }));
    for (const m of next) {
      const want = new Map(m.entries.map((e) => [e.path, e]));
      const own = rows.filter((r) => r.l.tree === m.tree);
      for (const [path, o] of stateOf(own.map((r) => r.l))) {
        const w = want.get(path);
        if (o.entry.type === 'dir' || !w || !sameEntry(w, o.entry)) continue;
        const row = own.find((r) => r.l === o.layer)!;
        row.live += o.entry.size;
        row.livePacked += o.entry.size * ratio(path);
        if (path.startsWith('.gamelayer-chunks/c/')) row.liveChunks += o.entry.size;
      }
    }
    const deadAll = rows.reduce((n, r) => n + r.l.bytes - r.live, 0);
    const deadChunks = rows.reduce((n, r) => n + r.l.entries.filter((e) => e.path.startsWith('.gamelayer-chunks/c/')).reduce((k, e) => k + e.size, 0) - r.liveChunks, 0);
    let need = deadAll - limit * content;
    let cost = 0;
    for (const r of rows.filter((x) => x.l.bytes > x.live).sort((a, b) => a.livePacked / (a.l.bytes - a.live) - b.livePacked / (b.l.bytes - b.live))) {
      if (need <= 0) break;
      const d = r.l.bytes - r.live;
      cost += r.livePacked * Math.min(1, need / d);
      need -= d;
    }
    boundCost = Math.max(boundCost, cost);
    process.stdout.write(`  bound: dead ${(deadAll / 1e6).toFixed(0)} MB (in chunk layers ${(deadChunks / 1e6).toFixed(0)}), limit ${((limit * content) / 1e6).toFixed(0)}, must push ≥ ${(cost / 1e6).toFixed(0)} MB\n`);
  }
  ms = next;
  layers = inc.layers;
}
if (args.bound) process.stdout.write(`bound: compaction must push at least ${(boundCost / 1e6).toFixed(0)} MB: sent ≥ ${((totals.sent + boundCost) / totals.written).toFixed(2)}× written, ${((totals.sent + boundCost) / totals.changed).toFixed(2)}× changed\n`);
const x = (a: number) => (a / totals.changed).toFixed(2);
process.stdout.write(
  `total: changed ${(totals.changed / 1e6).toFixed(0)} MB, sent ${x(totals.sent)}×, unpack ${x(totals.unpack)}× (pod ${x(totals.podUnpack)}×), worst update ${totals.worst.toFixed(2)}× (day ${totals.worstDay}), ` +
    `image/content at most ${totals.maxDead.toFixed(3)} (compressed ${totals.maxPacked.toFixed(3)}), at most ${totals.maxLayers} layers\n` +
    `  written ${(totals.written / 1e6).toFixed(0)} MB: sent ${(totals.sent / totals.written).toFixed(2)}× written, worst ${totals.worstWritten.toFixed(2)}× (day ${totals.worstWrittenDay}); ` +
    `compressed image at day 0 ${(planIncremental(manifests0, {}, opts).layers.reduce((n, l) => n + packed(l), 0) / content0).toFixed(3)}× content; fresh node at the end ${(layers.reduce((n, l) => n + l.bytes, 0) / ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0)).toFixed(3)}× content (start ${(content0 / content0).toFixed(3)}); ` +
    `content ${(content0 / 1e6).toFixed(0)} → ${(ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0) / 1e6).toFixed(0)} MB, ` +
    `app media ${(layers.filter((l) => l.tree === 'app-media').reduce((n, l) => n + l.bytes, 0) / 1e6).toFixed(0)} MB in its layers, of which patches ${(layers.filter((l) => l.tree === 'app-media' && l.patch).reduce((n, l) => n + l.bytes, 0) / 1e6).toFixed(0)} MB\n` +
    `  tree images, compressed / the tree's content, at most: ${TREE_NAMES.map((t) => `${t} ${treeMax[t].toFixed(3)}`).join(', ')}\n`,
);
