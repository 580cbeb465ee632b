// A previous build's manifest whose entries are, one for one, this build's scan of that tree (an unchanged tree: a
// no-op, or a build after a change elsewhere) is held once: the record's list is replaced by the scan's. At 1M
// entries each is a packed store of 31–35 MiB, and a build planned on a registry's record held both through the
// plan (issue 17 item 2, stop 42). Only packed lists are looked at (a small list costs little twice), and only
// after every entry was compared on the stores' columns: a record that names the scan's digest but lists other
// entries keeps its own list, and is judged on it as before.
import { packedStoreOf } from '../entries/packed-list.js';
import type { PackedEntries } from '../entries/packed-entries.js';
import type { BuildRecord, FileEntry, TreeManifest } from '../types.js';

/** Whether two stores hold the same entries in the same order (paths, types, modes, sizes, hashes, link targets). */
export function sameStoreEntries(a: PackedEntries, b: PackedEntries): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a.comparePath(i, b, i) !== 0 || !a.sameEntryAs(i, b, i)) return false;
  return true;
}

/**
 * Replaces, in `record`, each packed manifest list equal to the scanned manifest of its tree and platform (same
 * digest, same entries) with the scan's list, and each plan layer that was that very list too. Returns how many
 * lists were let go. The record is changed in place: every holder of it (the registry lookup's answer as well)
 * then lets the old store go.
 */
export function shareScannedManifests(record: Pick<BuildRecord, 'manifests' | 'plan'>, scanned: readonly TreeManifest[]): number {
  let shared = 0;
  for (const m of record.manifests) {
    const s = scanned.find((x) => x.tree === m.tree && x.platform === m.platform);
    if (!s || s.digest !== m.digest || s.entries === m.entries) continue;
    const mine = packedStoreOf(m.entries);
    const theirs = packedStoreOf(s.entries);
    if (!mine || !theirs || !sameStoreEntries(mine, theirs)) continue;
    const old: readonly FileEntry[] = m.entries;
    m.entries = s.entries;
    for (const l of record.plan.layers) if (l.entries === old) l.entries = s.entries;
    shared++;
  }
  return shared;
}
