// The layers of the build a pushed record was planned on, read from the record blob it names (`previous.blob`):
// content-addressed, so a tag reused by every build (a version bumped once a month) or moved since cannot mislead.
import { z } from 'zod';
import { builtLayerSchema, type BuildRecord, type BuiltLayer } from '../types.js';
import { recordBlobJson } from './artifact.js';
import { pushTargetFor, type TargetOptions } from './push.js';
import { parseReference } from './reference.js';
import { getSmallBlob, MAX_SMALL_BLOB } from './small-blob.js';
import { isDigest, sha256Digest } from '../oci/layout.js';

const layersOnly = z.object({ layers: z.array(builtLayerSchema) });

/**
 * The most read of a previous record blob, whose size no record gives: a build's record grows with its game, not
 * fourfold between two builds, so four times this build's record (at least 64 MiB) holds it; an endless or huge
 * answer stops there instead of filling half a GiB of memory for a status label.
 */
export function previousRecordLimit(recordBytes: number): number {
  return Math.min(MAX_SMALL_BLOB, Math.max(64 * 1024 * 1024, 4 * recordBytes));
}

/** The previous build's layers, or why they could not be read (said to the user, not silently dropped). */
export type PreviousLayers = { layers: BuiltLayer[] } | { unread: string };

/**
 * `ref` is where `record` was read (`host/repo:tag`); `maxBytes` bounds the read (previousRecordLimit). Undefined when
 * the record names no previous blob (planned afresh, or pushed by an older gamelayer).
 */
export async function previousLayers(ref: string, record: Pick<BuildRecord, 'previous'>, maxBytes: number, opts: TargetOptions = {}): Promise<PreviousLayers | undefined> {
  const digest = record.previous?.blob;
  if (!digest) return undefined;
  if (!isDigest(digest)) return { unread: `the record names it by ${JSON.stringify(digest)}, not a sha256 digest` };
  try {
    const r = parseReference(ref);
    const { client } = await pushTargetFor(r, opts);
    const where = `${client.host}/${r.repository}@${digest}`;
    const bytes = await getSmallBlob(client, r.repository, digest, `get build record ${digest} from ${r.repository}`, maxBytes);
    if (sha256Digest(bytes) !== digest) return { unread: `${where}: the registry answered other bytes` };
    const parsed = layersOnly.safeParse(await recordBlobJson(bytes, where));
    return parsed.success ? { layers: parsed.data.layers } : { unread: `${where}: not a build record (no valid layers)` };
  } catch (e) {
    // Only a label depends on it: a blob gone (the previous build pruned and collected), too big or damaged is said.
    return { unread: (e as Error).message };
  }
}
