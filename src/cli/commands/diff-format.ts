// Text rendering of diffs for the CLI.
import { recipeFileOf } from '../../chunk/recipe.js';
import { isUserEntry } from '../../diff/chunked-files.js';
import { chunkDiff } from '../../diff/chunks.js';
import type { ChunkSettings, TreeDiff } from '../../diff/diff.js';
import type { LayerDiff } from '../../plan/layer-diff.js';
import type { PullCost } from '../../diff/pull-cost.js';
import { printable } from '../../report/printable.js';
import { formatBytes } from '../../report/reporter.js';
import type { FileEntry } from '../../types.js';
import { table } from '../table.js';

export function diffTable(diffs: TreeDiff[]): string {
  return table(
    ['tree', 'added', 'modified', 'removed', 'unchanged', 'bytes added', 'bytes modified', 'bytes removed'],
    // A chunked tree counts its files, not its chunk entries (diff/chunked-files.ts); the chunks get their own line.
    diffs.map((d) => {
      const c = d.files ?? { added: d.added.length, modified: d.modified.length, removed: d.removed.length, unchanged: d.unchanged, bytesAdded: d.bytesAdded, bytesModified: d.bytesModified, bytesRemoved: d.bytesRemoved };
      return [d.label, String(c.added), String(c.modified), String(c.removed), String(c.unchanged), formatBytes(c.bytesAdded), formatBytes(c.bytesModified), formatBytes(c.bytesRemoved)];
    }),
    [1, 2, 3, 4, 5, 6, 7],
  );
}

/**
 * A path as one line of output: quoted as a JSON string (as git quotes such names) when it holds a control
 * character (C0 or C1), so a newline in a file name cannot split its line in two or forge another, nor a CSI act.
 */
export function shownPath(p: string): string {
  return printable(p);
}

/** The changed paths, a line each, `+` added, `~` modified, `-` removed; at most `limit` per tree. */
export function diffDetails(diffs: TreeDiff[], limit: number): string {
  const out: string[] = [];
  // A chunked tree's chunks are named by hash: not listed one by one, but summed up under the tree.
  const shown = isUserEntry;
  const name = (p: string) => {
    const f = recipeFileOf(p);
    return f === undefined ? shownPath(p) : `${shownPath(f)} (chunked)`;
  };
  for (const d of diffs) {
    const recut = new Set(d.recut);
    const lines = [
      // First, so a limit never hides why a tree's big files all changed.
      ...(d.chunking ? [`  ${chunkingLine(d.label.split(' ')[0]!, d.chunking)}`] : []),
      ...d.added.filter(shown).map((e) => `  + ${name(e.path)}${e.type === 'file' && !recipeFileOf(e.path) ? ` (${formatBytes(e.size)})` : linkSuffix(e)}`),
      ...d.modified
        .filter((m) => shown(m.after))
        .map((m) => {
          const f = recipeFileOf(m.after.path);
          if (f !== undefined && recut.has(f)) return `  ~ ${shownPath(f)} (chunked, cut again: same content)`;
          return `  ~ ${name(m.after.path)}${f !== undefined ? '' : describeChange(m.before, m.after)}`;
        }),
      ...d.removed.filter((e) => shown(e)).map((e) => `  - ${name(e.path)}`),
    ];
    const c = chunkDiff(d);
    if (c) lines.push(`  chunks: ${c.newChunks} new (${formatBytes(c.newChunkBytes)} to send), ${c.droppedChunks} no longer needed (${formatBytes(c.droppedChunkBytes)})`);
    if (!lines.length) continue;
    out.push(`${d.label}:`);
    out.push(...lines.slice(0, limit));
    if (lines.length > limit) out.push(`  … and ${lines.length - limit} more (use --json for all)`);
  }
  return out.join('\n');
}

/** The tree's chunk settings before and after, and what that does to its big files' entries. */
function chunkingLine(tree: string, c: NonNullable<TreeDiff['chunking']>): string {
  const said = (x: ChunkSettings | null) => (x ? `chunks of ~${formatBytes(x.avgChunkSize)} in files ≥ ${formatBytes(x.minFileSize)}` : 'whole files');
  const what = !c.after
    ? 'chunked files become whole files (a recipe removed, the file added)'
    : !c.before
      ? 'big files become chunks and a recipe (the file removed, a recipe added)'
      : 'chunked files are cut again';
  return `chunking: ${said(c.before)} → ${said(c.after)} (trees.${tree}.chunks changed): ${what}`;
}

/** ` -> target` of a symlink, as `ls -l` shows it (quoted when it holds a control character, as a path is). */
function linkSuffix(e: FileEntry): string {
  return e.type === 'symlink' && e.linkTarget !== undefined ? ` -> ${shownPath(e.linkTarget)}` : '';
}

function describeChange(a: TreeDiff['modified'][number]['before'], b: TreeDiff['modified'][number]['after']): string {
  if (a.type !== b.type) return ` (${a.type} → ${b.type}${linkSuffix(b)})`;
  if (a.linkTarget !== b.linkTarget) return ` (link ${shownPath(a.linkTarget ?? '')} → ${shownPath(b.linkTarget ?? '')})`;
  if (a.xxh64 === b.xxh64 && a.size === b.size) return ` (mode ${a.mode.toString(8)} → ${b.mode.toString(8)})`;
  return ` (${formatBytes(a.size)} → ${formatBytes(b.size)})`;
}

/** Per layer of the next build: reused from the recorded build, or rebuilt, with its content bytes. */
/**
 * The layers of the next build (against the recorded one), or with `builds` the layers of one recorded build against
 * an older one's (`diff --against A --to B`): the newer's layers were made, not "to rebuild".
 */
export function layerTable(d: LayerDiff, builds?: { older: string; newer: string }): string {
  const multi = new Set(d.layers.map((l) => l.platform)).size > 1;
  // The words `build` uses for the same layers: a new layer on top of the recorded build is a `patch`.
  const made = builds ? 'new' : 'rebuilt';
  const rows = d.layers.map((l) => [multi ? `${l.tree} ${l.platform}` : l.tree, String(l.index), String(l.files), formatBytes(l.bytes), l.patch ? 'patch' : l.status === 'rebuilt' ? made : l.status]);
  const patches = d.layers.filter((l) => l.patch).length;
  const patchNote = patches ? ` (${patches} patch)` : '';
  return [
    table(['tree', 'layer', 'files', 'content', builds ? `in ${builds.newer}` : 'next build'], rows, [1, 2, 3]),
    builds
      ? `layers of ${builds.newer}: ${d.reused} reused from ${builds.older}, ${d.rebuilt} new${patchNote}; ${formatBytes(d.bytesToBuild)} of new content`
      : `layers: ${d.reused} reused, ${d.rebuilt} to rebuild${patchNote}; ${formatBytes(d.bytesToBuild)} of content to tar, compress and push`,
  ].join('\n');
}

/** What a node running `from` pulls to run `to`: per image, and for the pod (the four tree images). */
export function pullCostTable(c: PullCost, from: string, to: string): string {
  const rows = c.images.map((i) => [i.image, `${i.newLayers}/${i.layers}`, formatBytes(i.newBytes), formatBytes(i.unpackBytes), formatBytes(i.bytes)]);
  rows.push(['pod (tree images)', `${c.pod.newLayers}/${c.pod.layers}`, formatBytes(c.pod.newBytes), formatBytes(c.pod.unpackBytes), formatBytes(c.pod.bytes)]);
  const share = c.pod.bytes ? ((100 * c.pod.newBytes) / c.pod.bytes).toFixed(1) : '0';
  // Layers above a changed one (a new base under the game) are unpacked again though nothing of them is pulled.
  const again = c.pod.unpackBytes > c.pod.newBytes ? `; it unpacks ${formatBytes(c.pod.unpackBytes)} (${c.pod.unpackLayers} layers: those above a changed lower layer are unpacked again)` : '';
  return [
    `pull cost: a node running ${from} pulls to run ${to}${c.pod.platform ? ` (${c.pod.platform})` : ''}:`,
    table(['image', 'new layers', 'to pull', 'to unpack', 'image size'], rows, [1, 2, 3, 4]),
    `the pod pulls ${formatBytes(c.pod.newBytes)} of ${formatBytes(c.pod.bytes)} (${share} %)${again}`,
    ...(c.chunks ?? []).map((k) => `chunked tree ${k.tree}${k.platform ? ` ${k.platform}` : ''}: ${k.newChunks} of ${k.chunks} chunks new, ${formatBytes(k.newBytes)} of ${formatBytes(k.bytes)} of chunks to pull`),
  ].join('\n');
}
