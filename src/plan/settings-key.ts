// The layer settings a build is planned under, as one key its record keeps: a previous build of other settings is
// not built on (its layers' paths, sizes or bytes would differ). Said by name when they differ, so a user who moved a
// mount or changed the target size reads why every tree is planned afresh instead of "no earlier build".
import { formatBytes } from '../report/reporter.js';
import { TREE_NAMES, type TreeName } from '../types.js';
import { LAYER_FORMAT } from './plan.js';

export interface LayerSettings {
  targetSize: number;
  maxLayers: number;
  mounts: Record<TreeName, string>;
  /** The compression (gzip or zstd). */
  kind: string;
  /** SOURCE_DATE_EPOCH (or 0): every entry's mtime. */
  mtime: number;
}

/** The key: its fields in this order, as records since the first have it (a reordered key would rebase every tree). */
export function layerSettingsKey(s: LayerSettings): string {
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, s.mounts[t]]));
  return JSON.stringify({ format: LAYER_FORMAT, targetSize: s.targetSize, maxLayers: s.maxLayers, mounts, kind: s.kind, mtime: s.mtime });
}

/**
 * What differs between a record's key and this build's, by config field (`trees.app.mount /srv/app → /srv/game`);
 * a key that cannot be read (an old or foreign record) is said so.
 */
/** Said when what changed cannot be told field by field. */
const SOME_SETTING = 'target size, layer limit, mounts, compression or SOURCE_DATE_EPOCH';

export function settingsChanges(recorded: unknown, current: string): string {
  const before = parseKey(recorded);
  const after = parseKey(current);
  if (!before || !after) return SOME_SETTING;
  const changes: string[] = [];
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'none');
  const differs = (field: string, a: unknown, b: unknown, as: (v: unknown) => string = show) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push(`${field} ${as(a)} → ${as(b)}`);
  };
  differs('layer format', before.format, after.format);
  differs('layers.targetSize', before.targetSize, after.targetSize, (v) => (typeof v === 'number' ? formatBytes(v) : show(v)));
  differs('layers.maxLayers', before.maxLayers, after.maxLayers);
  for (const t of TREE_NAMES) differs(`trees.${t}.mount`, recordOf(before.mounts)[t], recordOf(after.mounts)[t]);
  differs('compression', before.kind, after.kind);
  differs('SOURCE_DATE_EPOCH', before.mtime, after.mtime);
  return changes.length ? changes.join(', ') : SOME_SETTING;
}

function parseKey(key: unknown): Record<string, unknown> | undefined {
  if (typeof key !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(key);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function recordOf(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
