// What a tree's layers unpack to, walked in path order without a map of every path: each layer's entries other than
// whiteouts in path order (as the planner writes them: a fresh plan's layers and every patch, whose whiteouts sort
// among its entries), merged across the layers, the topmost entry of each path kept unless a whiteout in a layer
// above it hides the path or a folder of it. On a 1M-entry tree with a patch of whiteouts on top (a build after
// files were removed), the map of every path and the owner objects this replaces were more than 1 GiB.
import { eachEntry } from '../entries/packed-list.js';
import { compareBytewise } from '../scan/manifest.js';
import type { FileEntry, PlannedLayer } from '../types.js';
import { whiteoutTarget } from '../util/whiteout.js';


/** Lists whose entries other than whiteouts are known to be in strictly increasing path order. */
const sortedLists = new WeakSet<readonly FileEntry[]>();

/** Whether every layer's entries other than whiteouts are in strictly increasing path order (each list walked once). */
export function layersInPathOrder(layers: readonly PlannedLayer[]): boolean {
  for (const l of layers) {
    if (sortedLists.has(l.entries)) continue;
    let last: string | undefined;
    for (const e of eachEntry(l.entries)) {
      if (whiteoutTarget(e) !== undefined) continue;
      if (last !== undefined && compareBytewise(last, e.path) >= 0) return false;
      last = e.path;
    }
    sortedLists.add(l.entries);
  }
  return true;
}

export interface UnpackedEntry {
  entry: FileEntry;
  layer: PlannedLayer;
}

/**
 * The entries `layers` (bottom first) unpack to, in path order, each with the layer it comes from: the same as
 * stateOf in incremental.ts, sorted. Only for layers that pass layersInPathOrder. Holds one entry per layer and the
 * whiteouts' target paths.
 */
export function* unpackedStack(layers: readonly PlannedLayer[]): Generator<UnpackedEntry> {
  // Per layer, the paths its whiteouts hide in the layers below it.
  const hides = layers.map((l) => {
    const s = new Set<string>();
    for (const e of eachEntry(l.entries)) {
      const t = whiteoutTarget(e);
      if (t !== undefined) s.add(t);
    }
    return s;
  });
  const anyHidden = hides.some((s) => s.size > 0);
  const its = layers.map((l) => eachEntry(l.entries)[Symbol.iterator]());
  const next = (i: number): FileEntry | undefined => {
    for (;;) {
      const r = its[i]!.next();
      if (r.done) return undefined;
      if (whiteoutTarget(r.value) === undefined) return r.value;
    }
  };
  const heads = layers.map((_l, i) => next(i));
  /** Whether a whiteout in a layer above `owner` hides `path` or one of its folders. */
  const hidden = (path: string, owner: number): boolean => {
    if (!anyHidden) return false;
    for (let q = path; ; ) {
      for (let j = owner + 1; j < hides.length; j++) if (hides[j]!.has(q)) return true;
      const i = q.lastIndexOf('/');
      if (i <= 0) return false;
      q = q.slice(0, i);
    }
  };
  for (;;) {
    // The least path among the heads; the topmost layer holding it owns it.
    let least: string | undefined;
    for (const h of heads) if (h && (least === undefined || compareBytewise(h.path, least) < 0)) least = h.path;
    if (least === undefined) return;
    let owner = -1;
    let entry: FileEntry | undefined;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (!h || h.path !== least) continue;
      owner = i;
      entry = h;
      heads[i] = next(i);
    }
    if (!hidden(least, owner)) yield { entry: entry!, layer: layers[owner]! };
  }
}

/** The entries alone, in path order (for the diff walks that take an iterable of entries). */
export function* unpackedEntries(layers: readonly PlannedLayer[]): Generator<FileEntry> {
  for (const u of unpackedStack(layers)) yield u.entry;
}
