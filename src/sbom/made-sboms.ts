// The SBOM artifacts this host made, by their key and the gamelayer that made them: the document is a function of
// both, so an attached SBOM of that digest holds the content this build would make. A signed build over an SBOM an
// unsigned build of this host attached takes it without making the document again (up to stop 47 it made and
// compared it). A cache in the state folder, trusted as the store is: a missing or damaged entry only costs the make.
import path from 'node:path';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { gamelayerVersion } from '../version.js';

const FORMAT = 'gamelayer-sbom-made/1';

function entryFile(stateDir: string, key: string): string {
  return path.join(stateDir, 'cache', 'sbom-made', `${key.replace(':', '-')}.json`);
}

/** The SBOM artifact this gamelayer made here from the inputs of `key`, if it did. */
export async function madeSbom(stateDir: string, key: string): Promise<string | undefined> {
  const read = await readCheckedJson<{ version?: unknown; artifact?: unknown }>(entryFile(stateDir, key), FORMAT);
  if (!read.ok || read.value.version !== gamelayerVersion() || typeof read.value.artifact !== 'string') return undefined;
  return read.value.artifact;
}

/** Notes that this gamelayer made the SBOM artifact `artifact` from the inputs of `key`. */
export async function rememberMadeSbom(stateDir: string, key: string, artifact: string): Promise<void> {
  // A cache: a read-only state folder only costs a make on the next signed build.
  await writeCheckedJson(entryFile(stateDir, key), FORMAT, { version: gamelayerVersion(), artifact }).catch(() => undefined);
}
