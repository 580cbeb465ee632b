// The previous build of an image in a registry, for a build on a machine without local state (a fresh CodeBuild
// host): its record tells which layers it had; the ones this build keeps are downloaded into the local store
// (digest-verified as they are written), never tarred or compressed again.
import { fetchBuildRecordFor } from '../registry/artifact.js';
import { pushTargetFor, type TargetOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import type { OciStore } from '../oci/store.js';
import type { BuildRecord, BuiltLayer } from '../types.js';

export interface RemotePrevious {
  ref: string;
  record: BuildRecord;
  /** Brings the layer with this inputKey into the store when the record has it; undefined otherwise. */
  fetchLayer(inputKey: string): Promise<BuiltLayer | undefined>;
  /** Layers and bytes downloaded so far. */
  downloaded: { layers: number; bytes: number };
}

export async function remotePrevious(ref: string, registry: TargetOptions, store: OciStore): Promise<RemotePrevious> {
  const parsed = parseReference(ref);
  const target = await pushTargetFor(parsed, registry);
  const { record } = await fetchBuildRecordFor(ref, { ...registry, target });
  const downloaded = { layers: 0, bytes: 0 };
  return {
    ref,
    record,
    downloaded,
    async fetchLayer(inputKey) {
      const layer = record.layers.find((l) => l.inputKey === inputKey);
      if (!layer) return undefined;
      if (!(await store.hasBlob(layer.digest, layer.size))) {
        const body = await target.client.getBlob(parsed.repository, layer.digest);
        await store.putBlob(body, { digest: layer.digest, size: layer.size });
        downloaded.layers++;
        downloaded.bytes += layer.size;
      }
      return layer;
    },
  };
}
