// The layers of the studio's other games (`mountFrom:`), by inputKey. A layer's bytes are a function of its inputs
// (entries, mount, the base's folders above it, the layer settings): a layer this build plans whose inputKey is one
// of another game's newest build of the line is that game's tar. When its blob is in that game's repository it is
// taken as it is, never downloaded or packed again, and the push mounts it. The plan is not touched: it is made on
// this game's own previous build as before, so its layers are the ones this build would pack (docs/compaction.md).
// Game B packed the engine game A had built from the same files a moment before (CPU: 0.9 s a day of the bench).
import { fetchLineRecord } from '../registry/artifact.js';
import { blobSizes } from '../registry/blob-sizes.js';
import { checkKeptDiffIds, recordImageDiffIds } from '../registry/record-diffids.js';
import { pushTargetFor, readOnly, type TargetOptions } from '../registry/connect.js';
import { parseReference } from '../registry/reference.js';
import type { PushTarget } from '../registry/target.js';
import type { BuildRecord, BuiltLayer } from '../types.js';

export interface StudioLayer {
  layer: BuiltLayer;
  /** `host/repo` holding its blob. */
  repository: string;
}

/** Finds another game's layer of these inputs whose blob its repository holds, its record's diffIDs checked. */
export type StudioLayers = (inputKey: string) => Promise<StudioLayer | undefined>;

export interface StudioLayersInput {
  /** `mountFrom:` repository paths, in the registry `push` names. */
  mountFrom: readonly string[];
  /** `host[:port]/repo` this build is pushed to. */
  push: string;
  line: string;
  settingsKey: string;
  registry: TargetOptions;
  recordCache?: string;
  /** Says why a repository's layers are not taken (it could not be read): they are optional, the build goes on. */
  note: (message: string) => void;
}

interface Source {
  repository: string;
  record: BuildRecord;
  target: PushTarget;
  /** The record's images confirm its layers' diffIDs: asked once, when a layer of it is first wanted. */
  sound?: Promise<boolean>;
  /** A HEAD of it failed: said once, not asked again in this build. */
  failed?: true;
}

/**
 * Reads the newest record of `line` in each repository of `mountFrom` (other than `push`'s) made with this build's
 * layer settings; a repository with none, or that cannot be read, adds nothing. Undefined when none has one.
 */
export async function studioLayers(i: StudioLayersInput): Promise<StudioLayers | undefined> {
  const push = parseReference(i.push);
  const repos = i.mountFrom.filter((r) => r !== push.repository).map((r) => `${push.scheme ? `${push.scheme}://` : ''}${push.registry}/${r}`);
  const read = await Promise.all(
    repos.map(async (repository): Promise<Source | undefined> => {
      try {
        const target = await pushTargetFor(parseReference(repository), readOnly(i.registry));
        const found = await fetchLineRecord(repository, i.line, { ...i.registry, target, recordCache: i.recordCache });
        return found && found.record.settingsKey === i.settingsKey ? { repository, record: found.record, target } : undefined;
      } catch (e) {
        // Another game's repository that is missing or unreadable holds nothing for this build.
        i.note(`mountFrom: ${repository} not read (${(e as Error).message}): its layers are packed here`);
        return undefined;
      }
    }),
  );
  const sources = read.filter((s): s is Source => s !== undefined);
  if (!sources.length) return undefined;
  const byKey = new Map<string, { layer: BuiltLayer; source: Source }[]>();
  for (const source of sources) for (const layer of source.record.layers) byKey.set(layer.inputKey, [...(byKey.get(layer.inputKey) ?? []), { layer, source }]);
  return async (inputKey) => {
    for (const { layer, source } of byKey.get(inputKey) ?? []) {
      if (source.failed) continue;
      const held = await blobSizes(source.target, parseReference(source.repository).repository, [layer.digest]).catch((e: unknown) => {
        if (!source.failed) i.note(`mountFrom: ${source.repository} could not be asked for its layers (${(e as Error).message}): they are packed here`);
        source.failed = true;
        return undefined;
      });
      if (held?.get(layer.digest) !== layer.size) continue;
      // A kept layer's diffID goes into this build's configs: only from a record whose images say the same.
      source.sound ??= recordImageDiffIds(source.target.client, parseReference(source.repository).repository, source.record, source.repository).then(
        (said) => (checkKeptDiffIds(source.record, source.record.layers, said, source.repository, source.repository), true),
        () => false,
      );
      if (await source.sound) return { layer, repository: source.repository };
    }
    return undefined;
  };
}
