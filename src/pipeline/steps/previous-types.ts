// The types of a previous build read from a registry and of its lookup started early (startPreviousLookup), apart
// from previous.ts so that the build's inputs can name a lookup without importing the step (no import cycle).
import type { ManifestInfo } from '../../registry/client.js';
import type { PushTarget, TargetOptions } from '../../registry/push.js';
import type { BuildRecord, BuiltLayer } from '../../types.js';

export interface RegistryPrevious {
  /** What was read, as printed: `host/repo:gamelayer-line.<line>` or the --from reference. */
  ref: string;
  record: BuildRecord;
  /** `host/repo` (with scheme when given) that must hold every kept layer. */
  repository: string;
  /** Layers of the record present in `repository` (or `keptIn`) with their recorded size, by inputKey. */
  present: Map<string, BuiltLayer>;
  /**
   * With --from another repository than --push's: that repository (as --from gives it), which holds kept layers
   * `repository` lacks; the build's images name it as their blob source, and the push mounts them from it.
   */
  keptIn?: string;
  /** Layers of the record in neither `repository` nor `keptIn` (lifecycle policy, manual delete): their trees are rebuilt. */
  gone: BuiltLayer[];
  /**
   * Why the record's images contradict the diffID it gives a kept layer (it is then damaged: not built on), or
   * undefined; asked beside the layers' HEADs, awaited only by a build that would build on the record.
   */
  diffIdProblem?: Promise<string | undefined>;
  /**
   * The record blob this lookup read and verified against its digest, and the repository it read it from; with
   * --push, also what the line tag named when asked (`at`: Date.now() then; a push of the same line soon after does
   * not ask again) and the index the
   * local copy of the line's record holds now (line-copy.ts).
   */
  recordRead: {
    repository: string;
    blob: string;
    blobBytes?: Buffer;
    lineTag?: { tag: string; named: ManifestInfo; at: number };
    /** What the tags the push will set named (undefined: no such tag), asked beside the kept layers (`askTags`). */
    tagsNamed?: { answers: ReadonlyMap<string, ManifestInfo | undefined>; at: number };
    /** The record's layers found missing from the repository (`gone`): a push there sends them again, tags or not. */
    lost?: string[];
    copied?: string;
  };
  /**
   * With --push on a line's first build: the other line whose newest record this is (the line's own tag names none
   * yet), and when that record was created; with `recordTag`, the repository's newest record tag (it has no line tag).
   */
  plannedOn?: { line: string; createdAt: string; recordTag?: string };
  /** The target that asked `repository` for the layers (a push there reuses its client: auth, connections). */
  target: PushTarget;
}

/** The registry's previous build, being looked up, and the options it was started with. */
export interface PreviousLookup {
  readonly rebase: boolean | undefined;
  readonly from: string | undefined;
  readonly push: string | undefined;
  readonly line: string;
  readonly registry: TargetOptions | undefined;
  /** The folder of the local copies of line records (`lineCopyDir(stateDir)`); undefined: none read or kept. */
  readonly copyDir?: string;
  /** This host's record-blob copies (`recordBlobCacheDir(stateDir)`); undefined: none read or kept. */
  readonly recordCache?: string;
  /** With --push: the tags the push will set besides the line tag, asked beside the kept layers (one round fewer). */
  readonly askTags?: string[];
  readonly result: Promise<RegistryPrevious | undefined>;
  /**
   * Settles once the lookup's first questions are out (its client made: credentials read; with this host's copy of
   * the line's record, the copy read and the kept layers' HEADs and the record blob's GET asked as well).
   */
  readonly asking: Promise<unknown>;
}
