// The checked fast path of a no-op `build --push` (README.md, "The checked fast path of a no-op build --push"):
// bin/gamelayer.js runs this entry (dist/cli-bundle/fast-noop.js, a bundle of its own) before the CLI loads. When the
// last run of this exact command was a no-op (fast-noop/record.ts wrote its stamp) and nothing it depended on changed
// — the key (command line, folder, environment, Node, gamelayer's code, config text), every path under the trees, the
// state folder, each tag and kept layer in the registry, a base named by tag — it prints what that run printed, with
// its own timings, and exits 0 without loading the CLI (about 90 ms of CPU on the sample game). Anything else, or any
// doubt, returns undefined: the full path runs as it would have. It imports nothing of the CLI but fast-noop/ and
// util/atomic-write.ts (the re-run note it writes as the full path would).
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { candidateConfig, DEBUG_VAR, keyDifference, OFF_VAR, runKey, usesProxy } from './fast-noop/key.js';
import { registryDifference } from './fast-noop/registry-check.js';
import { replayedStdout } from './fast-noop/replay.js';
import { readStamp, stampFile } from './fast-noop/stamp.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { blobIdentities, headHash, stateWalkHash, treeWalkHash } from './fast-noop/tree-walk.js';

/** The exit code of a replayed no-op (0), or undefined: run the full path. */
export async function tryFastNoop(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number | undefined> {
  const started = performance.now();
  const reason = await whyNot(argv, env, started);
  if (reason === undefined) return 0;
  if (env[DEBUG_VAR]) process.stderr.write(`gamelayer: fast no-op path not taken: ${reason}\n`);
  return undefined;
}

async function whyNot(argv: readonly string[], env: NodeJS.ProcessEnv, started: number): Promise<string | undefined> {
  if (env[OFF_VAR]) return `${OFF_VAR} is set`;
  const cwd = process.cwd();
  const configFile = candidateConfig(argv, cwd);
  if (!configFile) return 'not a command line it answers';
  if (usesProxy(env)) return 'a proxy is set';
  const stateDir = path.join(path.dirname(configFile), '.gamelayer');
  const stamp = readStamp(stampFile(stateDir, cwd, argv));
  if (typeof stamp === 'string') return stamp;
  let key;
  try {
    if (typeof stamp.key?.salt !== 'string') return 'stamp damaged (salt)';
    key = runKey(argv, configFile, realpathSync(path.dirname(fileURLToPath(import.meta.url))), env, stamp.key.salt);
  } catch (e) {
    return `key unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const differs = keyDifference(stamp.key, key);
  if (differs) return `${differs} changed`;
  if (stamp.stateDir !== stateDir) return 'state folder moved';
  if (stateWalkHash(stateDir) !== stamp.state) return 'state folder changed';
  const blobs = stamp.storeBlobs && blobIdentities(Object.keys(stamp.storeBlobs));
  if (!blobs) return 'stamp damaged (store blobs)';
  const changedBlob = Object.keys(blobs).find((f) => blobs[f] !== stamp.storeBlobs[f]);
  if (changedBlob) return `store blob ${path.basename(changedBlob)} changed`;
  // The pointer's head too (4 KiB): a stamp must never vouch for a last build the full path would point away from.
  if (!stamp.lastBuild || headHash(stamp.lastBuild.file) !== stamp.lastBuild.head) return 'the last-build pointer names another build';
  const scanStarted = performance.now();
  for (const [root, hash] of Object.entries(stamp.trees)) {
    try {
      if (treeWalkHash(root, stamp.skip) !== hash) return `tree source ${root} changed`;
    } catch (e) {
      return `tree source ${root} unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }
  const scanMs = performance.now() - scanStarted;
  const registry = await registryDifference(stamp, env);
  if (registry) return registry;
  // Made before anything is written: a stamp that cannot be printed falls through with nothing printed twice.
  const stdout = replayedStdout(stamp.stdout, scanMs, performance.now() - started);
  if (typeof stamp.stderr !== 'string') return 'stamp damaged (output)';
  const note = stamp.rerunNote;
  if (note !== undefined && (typeof note?.file !== 'string' || typeof note.text !== 'string')) return 'stamp damaged (re-run note)';
  // The re-run note the no-op wrote (a stamp pass held it back): the full path writes it, so does this. Best effort,
  // as there.
  if (note) await ensureNote(note).catch(() => undefined);
  process.stderr.write(stamp.stderr);
  process.stdout.write(stdout);
  return undefined;
}

/** Writes the note unless a regular file holds its text already. */
async function ensureNote(note: { file: string; text: string }): Promise<void> {
  const st = lstatSync(note.file, { throwIfNoEntry: false });
  if (st?.isFile() && st.size === Buffer.byteLength(note.text) && readFileSync(note.file, 'utf8') === note.text) return;
  await writeFileAtomic(note.file, note.text);
}
