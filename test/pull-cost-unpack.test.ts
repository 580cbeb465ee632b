// Pull cost after a base image update: a node pulls the base's new layer only, but it keeps unpacked layers by their
// chain, so every layer above the changed one is unpacked again (checked with containerd in the trial: a 10-layer
// server image over a patched base gave 8 new snapshots for 119 B pulled). The report says both.
import { describe, expect, it } from 'vitest';
import { pullCostTable } from '../src/cli/commands/diff-format.js';
import { pullCost } from '../src/diff/pull-cost.js';
import type { BuildRecord } from '../src/types.js';

const L = (name: string, size: number) => ({ digest: `sha256:${name.padEnd(64, '0')}`, size });
const base1 = L('b1', 1000);
const base2 = L('b2', 1200);
const engine = L('e1', 50_000);
const media = L('a1', 40_000_000);
const app = L('c1', 20_000);
const patch = L('d1', 300);

type Images = Pick<BuildRecord, 'images' | 'platforms'>;
function build(bottom: ReturnType<typeof L>, top: ReturnType<typeof L>[] = []): Images {
  const image = (name: string, layers: ReturnType<typeof L>[]) => ({ name, platform: 'linux/amd64', digest: `sha256:${name}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers });
  return {
    platforms: ['linux/amd64'],
    images: [
      image('server', [bottom, engine, media, app, ...top]),
      image('engine', [bottom, engine]),
      image('app-media', [bottom, media]),
      image('app', [bottom, app, ...top]),
    ],
  };
}

describe('pull cost: what a node unpacks', () => {
  it('a new base under the game: pulls the base layer, unpacks every layer above it (a shared chain once per pod)', () => {
    const c = pullCost(build(base1), build(base2));
    const server = c.images.find((i) => i.image === 'server')!;
    expect(server.newBytes).toBe(base2.size);
    expect(server.unpackBytes).toBe(base2.size + engine.size + media.size + app.size);
    expect(server.unpackLayers).toBe(4);
    expect(c.pod.newBytes).toBe(base2.size);
    // The new base is one chain in all three tree images: unpacked once; each tree's layers over it once.
    expect(c.pod.unpackBytes).toBe(base2.size + engine.size + media.size + app.size);
    expect(c.pod.unpackLayers).toBe(4);
    const text = pullCostTable(c, 'v1', 'v2');
    expect(text).toContain('to unpack');
    expect(text).toMatch(/the pod pulls 1\.17 KiB of [\d.]+ MiB \(0\.0 %\); it unpacks [\d.]+ MiB \(4 layers: those above a changed lower layer are unpacked again\)/);
  });

  it('a patch on top: unpacks what it pulls, and says nothing more', () => {
    const c = pullCost(build(base1), build(base1, [patch]));
    expect(c.pod.newBytes).toBe(patch.size);
    expect(c.pod.unpackBytes).toBe(patch.size);
    expect(c.images.find((i) => i.image === 'engine')!.unpackBytes).toBe(0);
    expect(pullCostTable(c, 'v1', 'v2')).toMatch(/the pod pulls 300 B of [\d.]+ MiB \(0\.0 %\)$/m);
  });
});
