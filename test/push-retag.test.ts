// What a push of unchanged content costs, counted where the registry receives it: a no-op build + push sends
// nothing, and the same content under a new tag sends only manifests (the record blob holds no tag, so it is
// already there); the record found from the new tag still names the new tags.
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { sampleGame } from './support/sample.js';
import { useRegistryBehindProxy } from './support/registry-behind-proxy.js';

const net = useRegistryBehindProxy();

describe('push of unchanged content', () => {
  it('no-op build + push sends 0 bytes; the same content under a new tag sends only its manifests', async () => {
    const { config } = await sampleGame();
    const repository = `${net.proxy.host}/studio/retag`;
    const push = async (tag: string) => {
      const r = await build({ config, tag });
      const before = net.proxy.counts();
      await pushBuild({ store: r.store, record: r.record, repository });
      const after = net.proxy.counts();
      return { upload: after.uploadBytes - before.uploadBytes, manifests: after.manifestBytes - before.manifestBytes };
    };
    const first = await push('v1');
    expect(first.upload).toBeGreaterThan(first.manifests);

    expect(await push('v1')).toEqual({ upload: 0, manifests: 0 });

    const retag = await push('v2');
    expect(retag.manifests).toBeGreaterThan(0);
    expect(retag.upload).toBe(retag.manifests);
    const found = await fetchBuildRecordFor(`${net.registry.host}/studio/retag:v2`);
    expect(found.record.tags).toEqual(['v2', 'v2-engine', 'v2-engine-media', 'v2-app', 'v2-app-media']);
    const old = await fetchBuildRecordFor(`${net.registry.host}/studio/retag:v1`);
    expect(old.record.tags[0]).toBe('v1');
  });
});
