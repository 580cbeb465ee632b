// What every command needs: the loaded config and a reporter suited to where it runs.
import path from 'node:path';
import type { Command } from 'commander';
import { GamelayerError, errnoCode, isGamelayerError } from '../errors.js';
import { loadConfig, treeSourceFolders, type GameConfig } from '../config/load.js';
import { assertOutsideFolders } from '../util/fs-access.js';
import { jsonPrettyChunks } from '../util/json-pretty-chunks.js';
import { visibleControls } from '../report/printable.js';
import { defaultReporter, silentReporter, type Reporter } from '../report/reporter.js';
import { formatRetry, onRetry } from '../report/retries.js';
import { isQuiet } from './quiet.js';

export function configPath(cmd: Command): string {
  return String(cmd.optsWithGlobals().config ?? 'gamelayer.yaml');
}

export async function commandConfig(cmd: Command): Promise<GameConfig> {
  return loadConfig(configPath(cmd));
}

/**
 * Refuses an output path (`--out`, `--context`) of a command that has the config, when it is or lies in a tree's
 * source: checked before any work, as the file-or-folder checks of the output are.
 */
export async function refuseOutInTrees(config: GameConfig, out: string | undefined, flag: string, kind: 'file' | 'folder' = 'folder'): Promise<void> {
  if (out !== undefined && out !== '-') await assertOutsideFolders(out, flag, treeSourceFolders(config), { kind, configDir: config.dir });
}

/** Warns (stderr) of what the config says but likely meant otherwise: a layer size of 512 bytes meant as 512 MiB, say. */
export function warnConfig(config: GameConfig, reporter: Reporter): void {
  for (const w of config.warnings ?? []) reporter.warn(w);
}

/** Warns (stderr, once) when the start program cannot run on the config's base: a script whose interpreter is nowhere. */
export async function warnStartInterpreter(config: GameConfig, platforms: readonly string[] | undefined, reporter: Reporter): Promise<void> {
  const { startInterpreterWarning } = await import('../scan/start-interpreter.js');
  const w = await startInterpreterWarning(config, platforms?.length ? platforms : config.platforms);
  if (w) reporter.warn(w);
}

/**
 * JSON output goes to stdout alone, so progress is silenced, but warnings (an ignored cache, a rebase) still reach
 * stderr; otherwise bars on a TTY, lines in CI.
 */
export function commandReporter(json: boolean): Reporter {
  const quiet = isQuiet();
  const quietly = json || quiet;
  const reporter: Reporter = quietly ? { ...silentReporter, warn: (m) => process.stderr.write(`warning: ${visibleControls(m)}\n`) } : defaultReporter();
  // Registry retries are shown with their reason (on stderr; under --json too, stdout stays JSON); --quiet hides them.
  stopRetries?.();
  stopRetries = onRetry((n) => (json && !quiet ? process.stderr.write(`${formatRetry(n)}\n`) : reporter.info(formatRetry(n))));
  return reporter;
}

let stopRetries: (() => void) | undefined;

/** `value` as JSON, indented by 2, on stdout: written in pieces, never one string (`diff --json` lists 100k entries). */
export function printJson(value: unknown): void {
  for (const piece of jsonPrettyChunks(value)) process.stdout.write(piece);
  process.stdout.write('\n');
}

/** `--keep N` of gc and prune: a whole number of builds, at least 1; the error quotes what was typed. */
export function parseKeep(text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new GamelayerError('cli.keep', `--keep ${text === '' ? '""' : text}: expected a whole number of builds, at least 1`);
  }
  return Number(text);
}

/** The OCI layout `--store DIR` names (relative to the current folder, as `build --store`), else the config's. */
export function withStoreFlag(config: GameConfig, store: string | undefined): GameConfig {
  return store === undefined ? config : { ...config, store: path.resolve(store) };
}

/**
 * As `withStoreFlag`, for the commands that read a store: a `--store` naming nothing, a file or a folder that is not a
 * layout is said to be that, with the flag. It read as "no image tagged …" (load) or "build the image first" (push),
 * which sent the user to build what was built, into another folder. The store tells which (`OciStore.open`); this
 * puts the flag in front and says what to pass.
 */
export async function withReadStoreFlag(config: GameConfig, store: string | undefined): Promise<GameConfig> {
  const checked = withStoreFlag(config, store);
  if (store === undefined) return checked;
  const { OciStore } = await import('../oci/store.js');
  await OciStore.open(checked.store, { create: false }).catch((e: unknown) => {
    if (!isGamelayerError(e) || !e.code.startsWith('store.')) throw e;
    const built = 'pass the folder a build wrote (gamelayer build --store DIR)';
    const gone = e.code === 'store.missing' && ['ENOENT', 'ENOTDIR'].includes(errnoCode(e.cause) ?? '');
    // A folder that cannot be read (EACCES) is no case for another folder.
    const hint = e.code !== 'store.missing' ? built : gone ? `${built}, or leave out --store for the config's store (${config.store})` : undefined;
    throw new GamelayerError(e.code, `--store ${e.message}`, hint, { cause: e });
  });
  return checked;
}

/** `--store` of the commands that read a build from the local store: the same words as `build --store`. */
export const STORE_FLAG_HELP = 'OCI image layout directory the build was written to (default: store from the config, .gamelayer/oci)';
