// The configs of a registry record's images prove its kept layers' diffIDs (registry/record-diffids.ts). A record
// lists each image's layers, so only the fewest images that hold every layer are read; an older record lists none,
// and every image's manifest and config was read (two GETs an image). Its plan says which layers each image should
// hold, so the same few are read; the guarantee stays: every layer any image proves is proven, and a lie is caught.
import { beforeAll, describe, expect, it } from 'vitest';
import { DamagedRecordError, fetchBuildRecordFor } from '../src/registry/artifact.js';
import { RegistryClient } from '../src/registry/client.js';
import { checkKeptDiffIds, recordImageDiffIds } from '../src/registry/record-diffids.js';
import type { BuildRecord } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();
const sample = useTwoPlatformSample();
const name = `studio/diffids-reads-${process.pid}`;
let record: BuildRecord;

beforeAll(async () => {
  const repo = `${registry.host}/${name}`;
  const built = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: sample.dir });
  expect(built.code, built.stderr).toBe(0);
  record = (await fetchBuildRecordFor(`${repo}:v1`)).record;
}, 240_000);

/** The record as an older gamelayer wrote it: its images list no layers. */
function older(r: BuildRecord): BuildRecord {
  return { ...r, images: r.images.map(({ layers: _layers, ...image }) => image) };
}

/** What recordImageDiffIds says of `r`, and the GETs of the repository's manifests and blobs it took. */
async function readIds(r: BuildRecord): Promise<{ said: Awaited<ReturnType<typeof recordImageDiffIds>>; gets: number }> {
  await registry.resetAccessLog();
  const said = await recordImageDiffIds(new RegistryClient({ host: registry.host }), name, r, `${name}:v1`);
  const gets = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.startsWith(`/v2/${name}/`)).length;
  return { said, gets };
}

function expectEveryLayerProven(r: BuildRecord, said: Awaited<ReturnType<typeof recordImageDiffIds>>): void {
  for (const l of r.layers) expect(said.get(l.digest)?.diffID, `${l.tree} layer ${l.index}`).toBe(l.diffID);
}

describe("the reads that prove a registry record's diffIDs", () => {
  it('of an older record (images listing no layers) are as few as for a record listing them, every layer proven', async () => {
    const platformImages = record.images.filter((i) => i.layers).length;
    const listed = await readIds(record);
    expectEveryLayerProven(record, listed.said);
    // The two-platform sample: both server images, each tree's amd64 image (its marker layer), and engine's arm64 one
    // (the media trees' marker layers are the same on both platforms): 7 of 10 images, a manifest and a config each.
    expect(listed.gets).toBe(14);
    const old = await readIds(older(record));
    expectEveryLayerProven(record, old.said);
    expect(old.gets).toBe(listed.gets);
    expect(old.gets).toBeLessThan(2 * platformImages);
  });

  it('of an older record whose plan names no image right still read every image that may prove a layer', async () => {
    // Image names that are no tree's: the plan says nothing of what they hold, so they are read after all.
    const renamed = older({ ...record, images: record.images.map((i) => (i.name === 'server' ? i : { ...i, name: `x-${i.name}` })) });
    const { said, gets } = await readIds(renamed);
    expectEveryLayerProven(record, said);
    expect(gets).toBe(2 * record.images.filter((i) => i.layers).length);
  });

  it('of an older record catch a lie about a layer only one image holds', async () => {
    // engine's arm64 marker layer: in engine's arm64 image alone.
    const victim = record.layers.find((l) => l.tree === 'engine' && !record.plan.layers.some((p) => p.inputKey === l.inputKey) && !record.images.some((i) => i.platform === 'linux/amd64' && i.layers?.some((x) => x.digest === l.digest)))!;
    expect(victim).toBeDefined();
    const lie = `sha256:${'cd'.repeat(32)}`;
    const forged = older({ ...record, layers: record.layers.map((l) => (l.digest === victim.digest ? { ...l, diffID: lie } : l)) });
    const { said } = await readIds(forged);
    const holder = record.images.find((i) => i.name === 'engine' && i.platform === 'linux/arm64')!;
    expect(said.get(victim.digest)).toMatchObject({ diffID: victim.diffID, image: { digest: holder.digest } });
    expect(() => checkKeptDiffIds(forged, forged.layers, said, 'line', name)).toThrow(DamagedRecordError);
    expect(() => checkKeptDiffIds(forged, forged.layers, said, 'line', name)).toThrow(
      `line: layer ${victim.digest} (engine layer ${victim.index}) has diffID ${lie} in the record, but the config of its image engine linux/arm64 (${holder.digest}) says ${victim.diffID}`,
    );
  });
});
