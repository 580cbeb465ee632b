// gamelayer.yaml as its checks passed it, kept in the game's state folder: a command run on an unchanged config (every
// no-op build) neither parses its YAML nor builds and runs the zod schemas, about 10 ms of every start (issue 17).
// The checks that depend on the file system (sources, the store's place) run on every load all the same.
//
// An entry is the text's sha256 and the identity of this gamelayer: the device, inode, size and times of its
// package.json and of the file this module runs from. Every install and every build of gamelayer writes that file
// anew (npm extracts, scripts/build-dist.mjs swaps in a fresh dist/), and a package manager that links unchanged
// files across versions still has a package.json of another version: a gamelayer whose checks changed never takes an
// entry an older one wrote. From the TypeScript sources (tsx) there is no such file to vouch for the schema: no cache.
// Written only into a state folder that has a cache already (a build made it): reading a config creates nothing.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { fileIdentity } from '../util/file-identity.js';
import { gamelayerRoot } from '../version.js';
import type { RawConfig } from './schema.js';

const FORMAT = 'gamelayer-validated-config/1';

interface Entry {
  key: string;
  raw: RawConfig;
}

/** The config `text` (of `file`) validated before by this gamelayer, else undefined. */
export async function readValidatedConfig(file: string, text: string): Promise<RawConfig | undefined> {
  const at = where(file, text);
  if (!at) return undefined;
  const read = await readCheckedJson<Entry>(at.file, FORMAT);
  return read.ok && read.value.key === at.key && typeof read.value.raw === 'object' && read.value.raw !== null ? read.value.raw : undefined;
}

/** Keeps `raw`, what the checks made of `text`, over any entry for `file` (called on a miss). Best effort: never throws. */
export async function saveValidatedConfig(file: string, text: string, raw: RawConfig): Promise<void> {
  const at = where(file, text);
  if (!at || !existsSync(path.dirname(at.file))) return;
  // Only what JSON gives back as it was is kept (the schema makes nothing else today; `.inf` fails its checks).
  if (!plainJson(raw)) return;
  await writeCheckedJson(at.file, FORMAT, { key: at.key, raw }).catch(() => {});
}

function where(file: string, text: string): { file: string; key: string } | undefined {
  const own = codeIdentity();
  if (!own) return undefined;
  const key = createHash('sha256').update(own).update('\0').update(text).digest('hex');
  const name = createHash('sha256').update(file).digest('hex').slice(0, 16);
  return { file: path.join(path.dirname(file), '.gamelayer', 'cache', `validated-config-${name}.json`), key };
}

let identity: { value: string | undefined } | undefined;

function codeIdentity(): string | undefined {
  identity ??= { value: statIdentity() };
  return identity.value;
}

function statIdentity(): string | undefined {
  const self = import.meta.url;
  if (!self.startsWith('file:') || !self.endsWith('.js')) return undefined;
  try {
    const files = [fileURLToPath(new URL('package.json', gamelayerRoot())), fileURLToPath(self)];
    return JSON.stringify(
      files.map((f) => [f, fileIdentity(statSync(f, { bigint: true }))]),
    );
  } catch {
    return undefined;
  }
}

/** True when JSON text of `v` reads back equal: strings, finite numbers, booleans, null, lists and plain maps. */
function plainJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(plainJson);
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  // A field the schema left undefined is absent once read back, which its readers take alike.
  return Object.values(v).every((x) => x === undefined || plainJson(x));
}
