// What every command needs: the loaded config and a reporter suited to where it runs.
import path from 'node:path';
import type { Command } from 'commander';
import { GamelayerError } from '../errors.js';
import { loadConfig, treeSourceFolders, type GameConfig } from '../config/load.js';
import { assertOutsideFolders } from '../util/fs-access.js';
import { defaultReporter, silentReporter, type Reporter } from '../report/reporter.js';
import { formatRetry, onRetry } from '../report/retries.js';

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
export async function refuseOutInTrees(config: GameConfig, out: string | undefined, flag: string): Promise<void> {
  if (out !== undefined && out !== '-') await assertOutsideFolders(out, flag, treeSourceFolders(config));
}

/**
 * JSON output goes to stdout alone, so progress is silenced, but warnings (an ignored cache, a rebase) still reach
 * stderr; otherwise bars on a TTY, lines in CI.
 */
export function commandReporter(json: boolean): Reporter {
  const reporter: Reporter = json ? { ...silentReporter, warn: (m) => process.stderr.write(`warning: ${m}\n`) } : defaultReporter();
  // Registry retries are shown with their reason (on stderr; under --json too, stdout stays JSON).
  stopRetries?.();
  stopRetries = onRetry((n) => (json ? process.stderr.write(`${formatRetry(n)}\n`) : reporter.info(formatRetry(n))));
  return reporter;
}

let stopRetries: (() => void) | undefined;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
 * which sent the user to build what was built, into another folder.
 */
export async function withReadStoreFlag(config: GameConfig, store: string | undefined): Promise<GameConfig> {
  const checked = withStoreFlag(config, store);
  if (store === undefined) return checked;
  const dir = checked.store;
  const { stat } = await import('node:fs/promises');
  const { OCI_LAYOUT_FILE } = await import('../oci/layout.js');
  const s = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (s instanceof Error) {
    const missing = s.code === 'ENOENT' || s.code === 'ENOTDIR';
    throw new GamelayerError(
      'store.missing',
      `--store ${dir}: ${missing ? 'the store does not exist' : `cannot read the store (${s.code ?? s.message})`}`,
      missing ? `pass the folder a build wrote (gamelayer build --store DIR), or leave out --store for the config's store (${config.store})` : undefined,
    );
  }
  if (!s.isDirectory()) throw new GamelayerError('store.not-layout', `--store ${dir}: is a file, not a store folder`, 'pass the folder a build wrote (gamelayer build --store DIR)');
  const marker = await stat(path.join(dir, OCI_LAYOUT_FILE)).catch(() => undefined);
  if (!marker?.isFile()) {
    throw new GamelayerError('store.not-layout', `--store ${dir}: not an OCI image layout (no ${OCI_LAYOUT_FILE} file)`, 'pass the folder a build wrote (gamelayer build --store DIR)');
  }
  return checked;
}

/** `--store` of the commands that read a build from the local store: the same words as `build --store`. */
export const STORE_FLAG_HELP = 'OCI image layout directory the build was written to (default: store from the config, .gamelayer/oci)';
