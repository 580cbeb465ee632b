// The previous build as build.ts hands it to the planner (per tree: its manifest, its layers in order and their
// stack positions), made from a stack of planned layers; src/plan/incremental.ts's recordedTrees does the same
// from a stored record.
import type { PreviousTree } from '../../src/plan/incremental.js';
import type { PlannedLayer, TreeManifest, TreeName } from '../../src/types.js';

export function previousOf(ms: TreeManifest[], layers: PlannedLayer[]): Partial<Record<TreeName, PreviousTree>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const m of ms) {
    const own = layers.map((l, i) => [l, i] as const).filter(([l]) => l.tree === m.tree);
    out[m.tree] = { manifest: m, layers: own.map(([l]) => l), positions: own.map(([, i]) => i) };
  }
  return out;
}
