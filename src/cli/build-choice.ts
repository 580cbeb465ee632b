// Which local build a command works on (run-local, k8s, ecs): -t, --tag names it as build, load and gc do, --record
// by its record file (or, for a deploy, a pushed build's reference); neither is the last build.
import type { GameConfig } from '../config/load.js';
import { GamelayerError, type ErrorCode } from '../errors.js';

/** The record file (or reference) to read: `--record` as given, the file of the `--tag` build, or undefined (the last). */
export async function recordOfTagOrFile(config: GameConfig, flags: { tag?: string; record?: string }, code: ErrorCode, purpose: string): Promise<string | undefined> {
  if (flags.tag !== undefined && flags.record !== undefined) {
    throw new GamelayerError(code, `--tag ${flags.tag} and --record ${flags.record} both name the build to ${purpose}`, 'give one of them');
  }
  if (flags.tag === undefined) return flags.record;
  const { localBuildFile } = await import('../inventory/local.js');
  return localBuildFile(config, flags.tag);
}
