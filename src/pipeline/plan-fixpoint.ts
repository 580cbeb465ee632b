// A no-op's plan, remembered (issue 17 item 3). Planning from the previous build's record re-checks the record's
// trees (every recorded layer's entries hashed again against its inputKey, its layers unpacked against its manifest)
// and plans every tree; on a no-op that gives back exactly the record's own plan. When it did (every tree unchanged,
// the same layers with the same input keys), the inputs of that planning are noted here as one key: the tool's
// version, the platform, the layer settings, the base's layers, each tree's manifest digest, the record blob's digest
// (its bytes were read and matched it) and the mounts. A later build whose key is noted takes the record's plan as it
// is: no planning, and no second check of the same record bytes (they passed it when the key was noted). Anything
// else (a changed tree, another record, a damaged one, a moved base, a layer gone) gives another key, and the build
// plans and checks as before. A note is only ever a fact observed by this code's version: a wrong one cannot make an
// image differ from its sources (the record's layers hold exactly these manifests' entries), only keep a plan.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { TREE_NAMES, type BuildRecord, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';
import type { IncrementalPlan } from '../plan/incremental.js';

const FORMAT = 'gamelayer-plan-fixpoints-1';

/** Keys kept, newest first: a state folder shared by a few configs or platforms keeps each one's. */
export const FIXPOINTS_KEPT = 16;

export function fixpointsFile(stateDir: string): string {
  return path.join(stateDir, 'cache', 'plan-fixpoints.json');
}

export interface FixpointInputs {
  version: string;
  platform: string;
  settingsKey: string;
  targetSize: number;
  maxLayers: number;
  mounts: Record<string, string>;
  baseLayers: readonly string[];
  manifests: readonly TreeManifest[];
  /** The digest of the record blob the previous record was read from (and checked against). */
  recordBlob: string;
}

export function fixpointKey(i: FixpointInputs): string {
  const manifests = i.manifests.map((m) => [m.tree, m.platform ?? null, m.digest, m.chunks ?? null]);
  const text = JSON.stringify([FORMAT, i.version, i.platform, i.settingsKey, i.targetSize, i.maxLayers, i.mounts, i.baseLayers, manifests, i.recordBlob]);
  return createHash('sha256').update(text).digest('hex');
}

/** The noted keys; a missing, damaged or foreign file is no note at all. */
export async function readFixpoints(stateDir: string): Promise<string[]> {
  const r = await readCheckedJson<{ keys?: unknown }>(fixpointsFile(stateDir), FORMAT);
  const keys = r.ok ? r.value.keys : undefined;
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k)) : [];
}

/** Notes keys (newest first, at most FIXPOINTS_KEPT); best effort: a state folder that cannot be written plans each time. */
export async function noteFixpoints(stateDir: string, known: readonly string[], added: readonly string[]): Promise<void> {
  const fresh = added.filter((k) => !known.includes(k));
  if (!fresh.length) return;
  const keys = [...new Set([...fresh, ...known])].slice(0, FIXPOINTS_KEPT);
  await writeCheckedJson(fixpointsFile(stateDir), FORMAT, { keys }).catch(() => undefined);
}

/** The record's plan for one platform, each layer as the plan step gives it (with its platform). */
export function recordedPlan(record: Pick<BuildRecord, 'plan'>, platform: string): PlannedLayer[] {
  return record.plan.layers.filter((l) => l.platform === platform);
}

/** Every tree unchanged, as a fixpoint's planning decided. */
export function unchangedDecisions(): IncrementalPlan['decisions'] {
  return Object.fromEntries(TREE_NAMES.map((t) => [t, { decision: 'unchanged' }])) as Record<TreeName, { decision: 'unchanged' }>;
}

/**
 * Whether planning gave back the record's own plan: every tree unchanged, and the same layers in the same order
 * (tree, index, input key (a hash of the entries), bytes, patch).
 */
export function isFixpoint(planned: readonly PlannedLayer[], decisions: IncrementalPlan['decisions'], record: Pick<BuildRecord, 'plan'>, platform: string): boolean {
  if (!TREE_NAMES.every((t) => decisions[t]?.decision === 'unchanged' && decisions[t].reason === undefined)) return false;
  const recorded = recordedPlan(record, platform);
  return (
    recorded.length === planned.length &&
    planned.every((l, i) => {
      const r = recorded[i]!;
      return r.tree === l.tree && r.index === l.index && r.inputKey === l.inputKey && r.bytes === l.bytes && !!r.patch === !!l.patch && r.entries.length === l.entries.length;
    })
  );
}
