// The diffID each local build record of these settings gives a layer's inputs: what a layer cache row for inputs the
// previous build did not have (a branch switched back to, the previous record deleted or not restored) is checked
// against. A cache row names a blob the store holds and checks out, but only a record says it is the tar of these
// inputs cheaply; a row no record vouches for has its blob read back and proven first (layer-reuse.ts, oci/layer-proof.ts).
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { LAST_BUILD, recordsDir } from '../state/records.js';
import { readBuildSummary } from '../state/record-summary.js';

/** inputKey → the diffIDs the records of `settingsKey` give it (more than one: records disagree, none is used). */
export async function recordedLayers(stateDir: string, settingsKey: string): Promise<Map<string, Set<string>>> {
  const dir = recordsDir(stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out = new Map<string, Set<string>>();
  for (const name of names) {
    // build-last.json is a copy of one of the others.
    if (!/^build-.+\.json$/.test(name) || name === LAST_BUILD) continue;
    // Summaries only (the entries are stepped over); a damaged record vouches for nothing.
    const record = await readBuildSummary(path.join(dir, name)).catch(() => undefined);
    if (record?.settingsKey !== settingsKey) continue;
    for (const l of record.layers) out.set(l.inputKey, (out.get(l.inputKey) ?? new Set()).add(l.diffID));
  }
  return out;
}
