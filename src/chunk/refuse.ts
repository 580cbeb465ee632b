// Targets that need a chunked tree's files whole (the server image run as it is, image volumes, `docker run` after
// `load`) cannot take one: its images hold chunks and recipes, assembled only by the copy step (docs/chunks.md).
import { GamelayerError } from '../errors.js';

/** The error for `what` (a target) when `trees` are chunked; the hint names the way out. */
export function wholeFilesNeeded(trees: readonly string[], what: string, wayOut: string): GamelayerError {
  const list = trees.join(', ');
  return new GamelayerError(
    'chunks.whole-files',
    `${what} needs whole files, but tree${trees.length > 1 ? 's' : ''} ${list} ${trees.length > 1 ? 'are' : 'is'} chunked (trees.<tree>.chunks): ` +
      'its images hold content-defined chunks and recipes, assembled into files only by the copy step of an init-container deployment',
    // True whether or not the config still asks for chunks: the build deployed may predate turning them off.
    `${wayOut}; or build again without trees.${trees[0]}.chunks in gamelayer.yaml, for whole files (docs/chunks.md)`,
  );
}

/** The names of the chunked trees among manifests (a tree once, whatever its platforms). */
export function chunkedTreeNames(manifests: readonly { tree: string; chunks?: unknown }[]): string[] {
  return [...new Set(manifests.filter((m) => m.chunks).map((m) => m.tree))];
}
