// The last build's record: the "previous build" a local build plans on, and what k8s, ecs, run-local, load, diff and
// inspect take without a tag. Configs beside each other share .gamelayer/records/ but may name stores of their own
// (`store:`): one pointer for all of them made one config's build the other's previous build. There is one per store:
// `build-last.json` for the default store (.gamelayer/oci, the name it always had: an older file is that store's), and
// `build-last@<key>.json` for another, keyed by the store's path from the state folder (the same on every checkout).
import { createHash } from 'node:crypto';
import path from 'node:path';

export const LAST_BUILD = 'build-last.json';

/** A pointer of a store other than the default; `@` is no tag character, so no build's record has such a name. */
const OTHER_STORE_LAST = /^build-last@[0-9a-f]{12}\.json$/;

/**
 * Where `store` is, as a build record names it (`store`): its path from the state folder, POSIX (`oci` for the
 * default store, `../second-store`), so a checkout elsewhere (a CI host) names the same store the same way.
 */
export function storeFromState(stateDir: string, store: string): string {
  return path.relative(path.resolve(stateDir), path.resolve(store)).split(path.sep).join('/') || '.';
}

/** The store a record's `store` names, as a path. */
export function storeOfRecord(stateDir: string, named: string): string {
  return path.resolve(stateDir, named);
}

/** The name of the last-build pointer of `store` in the records folder of `stateDir`. */
export function lastBuildName(stateDir: string, store: string): string {
  const key = storeKey(stateDir, store);
  return key === undefined ? LAST_BUILD : `build-last@${key}.json`;
}

/**
 * The key of `store` in the records folder's file names (its pointer, its builds' records): undefined for the default
 * store (.gamelayer/oci, whose files keep the names they always had), else a hash of its path from the state folder.
 */
export function storeKey(stateDir: string, store: string): string | undefined {
  const from = storeFromState(stateDir, store);
  if (from === 'oci') return undefined;
  return createHash('sha256').update(from).digest('hex').slice(0, 12);
}

/** Whether a records folder's file is a last-build pointer (of any store): a copy of a build's record, not a build. */
export function isLastBuildName(name: string): boolean {
  return name === LAST_BUILD || OTHER_STORE_LAST.test(name);
}
