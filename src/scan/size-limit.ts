// A file too big for any layer the registry takes, known from its size alone: refused before a byte is read
// (a sparse 20 GB file is not hashed for minutes to fail afterwards).
import { GamelayerError } from '../errors.js';
import { formatBytes } from '../report/reporter.js';

/** A file no layer could hold, seen from its size alone (before it is read). */
export function fileTooBig(label: string, file: string, size: number, maxFileBytes: number): GamelayerError {
  return new GamelayerError(
    'scan.file-too-big',
    `${label}: ${file} is ${formatBytes(size)} (by its size on disk): no compression brings that under the registry layer limit (layers.maxLayerSize; ` +
      `files up to ${formatBytes(maxFileBytes)} might fit)`,
    'split such files before packaging, exclude it, or raise layers.maxLayerSize if your registry takes bigger layers',
  );
}
