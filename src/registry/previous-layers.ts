// The layers of the build a pushed record was planned on, read from the record blob it names (`previous.blob`):
// content-addressed, so a tag reused by every build (a version bumped once a month) or moved since cannot mislead.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { builtLayerSchema, type BuildRecord, type BuiltLayer } from '../types.js';
import { recordBlobJson } from './artifact.js';
import { pushTargetFor, type TargetOptions } from './push.js';
import { parseReference } from './reference.js';
import { getSmallBlob } from './small-blob.js';

const layersOnly = z.object({ layers: z.array(builtLayerSchema) });

/**
 * `ref` is where `record` was read (`host/repo:tag`). Undefined when the record names no previous blob (planned
 * afresh, or pushed by an older gamelayer) or the blob is gone (the previous build pruned and collected).
 */
export async function previousLayers(ref: string, record: Pick<BuildRecord, 'previous'>, opts: TargetOptions = {}): Promise<BuiltLayer[] | undefined> {
  const digest = record.previous?.blob;
  if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
  const r = parseReference(ref);
  const { client } = await pushTargetFor(r, opts);
  const where = `${client.host}/${r.repository}@${digest}`;
  // Only a label depends on it: a blob the registry no longer serves (or serves damaged) leaves the layers "new".
  const bytes = await getSmallBlob(client, r.repository, digest, `get build record ${digest} from ${r.repository}`).catch(() => undefined);
  if (!bytes || `sha256:${createHash('sha256').update(bytes).digest('hex')}` !== digest) return undefined;
  const parsed = layersOnly.safeParse(await recordBlobJson(bytes, where).catch(() => undefined));
  return parsed.success ? parsed.data.layers : undefined;
}
