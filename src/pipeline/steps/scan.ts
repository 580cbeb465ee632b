// Step scan: the four trees walked and hashed into manifests, per platform where a tree's source is. Skipped where
// its inputs are cached: a file whose size and times match the stat cache is not read again.
import { MAX_COMPRESSION_RATIO } from '../../oci/layer-kinds.js';
import { scanGameChunked, type ChunkedTreeScan, type PreviousRecord } from '../../scan/chunk-tree.js';
import type { OpenFiles } from '../../util/open-files.js';
import type { BuildInputs } from './inputs.js';

export type ScanInput = Pick<BuildInputs, 'config' | 'reporter' | 'platforms' | 'kind' | 'layerLimit'> & {
  /** When the build started: the scan's time is counted from there. */
  started: number;
  /** The previous build's record, as the lookup beside the scan finds it: chunk lists of big files it knows. */
  previous?: PreviousRecord;
  /** Whether the build packs every file the stat cache misses (see ScanOptions.packHashes). */
  packHashes?: () => Promise<boolean>;
  /** The build's open files: what the scan opens for later steps (paged stats), closed by the build however it ends. */
  openFiles?: OpenFiles;
  /** Stops the scan (the build failed elsewhere): see ScanOptions.signal. */
  signal?: AbortSignal;
};

export interface ScanOutput {
  /** Chunked trees (docs/chunks.md) come out transformed: big files as chunk and recipe entries. */
  scans: ChunkedTreeScan[];
  scanMs: number;
}

export async function scanTrees(i: ScanInput): Promise<ScanOutput> {
  // A file no compression could bring under the layer limit is refused by the scan, before anything is built.
  const scanned = await scanGameChunked(i.config, { reporter: i.reporter, platforms: i.platforms, maxFileBytes: i.layerLimit * MAX_COMPRESSION_RATIO[i.kind], previous: i.previous, packHashes: i.packHashes, packWarm: true, openFiles: i.openFiles, signal: i.signal });
  return { scans: scanned.trees, scanMs: Date.now() - i.started };
}
