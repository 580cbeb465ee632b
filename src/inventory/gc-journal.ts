// The builds a `gc --apply` is removing, written in the store before it takes their tags out of index.json. A gc
// killed between the index and the records left records whose images are no longer tagged in the store; as the
// state folder may hold another store's records too (a second config's `store:`), an untagged record alone is not
// this store's to remove. The next gc reads this list, removes those records as it meant to, and then the list.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';

const FORMAT = 'gamelayer-gc-removing/1';

export function gcJournalFile(storeDir: string): string {
  return path.join(storeDir, '.gc-removing.json');
}

/** The build tags an interrupted gc of this store was removing (none when it finished, or the list is unreadable). */
export async function readGcJournal(storeDir: string): Promise<Set<string>> {
  const read = await readCheckedJson<unknown>(gcJournalFile(storeDir), FORMAT);
  const tags = read.ok && Array.isArray(read.value) ? read.value.filter((t): t is string => typeof t === 'string') : [];
  return new Set(tags);
}

export async function writeGcJournal(storeDir: string, tags: readonly string[]): Promise<void> {
  await writeCheckedJson(gcJournalFile(storeDir), FORMAT, [...tags]);
}

export async function clearGcJournal(storeDir: string): Promise<void> {
  await rm(gcJournalFile(storeDir), { force: true });
}
