// Golden digests of the bundled sample game: its layers and images must come out byte for byte as pinned here.
// Layer bytes depend on our tar writer, the gzip implementation (zlib, its level and block settings) and the
// image JSON we write; a dependency upgrade or a refactor that changes any byte changes a digest here and fails,
// which is the point: every user's next push would otherwise re-send every layer. When a change of bytes is
// intended, bump LAYER_FORMAT (src/plan/plan.ts) as the change requires and update these values in the same commit.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { copySample, sampleConfig } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const LAYERS = [
  ['engine-media', 0, 'sha256:2f8b015be214b48d862a5eb482bd2cb944e4d13bffc153fefe8577797368ee48', 'sha256:5f3432a9aab323641a2aee16e818286dd72b32ddbdb859d78e86d6cd8430cae3'],
  ['engine', 0, 'sha256:968d2b028e473f9c8a99a187184a55c7eed6831429a1994a7840004d78c228e4', 'sha256:c4b0d2a84aae0409f58aec53b1b7d2fa1a3e63212e86f487b9c0fdd05fdf28b2'],
  ['app-media', 0, 'sha256:4fac0deed2c9f0a342b596d907c05dbebba80524eb0da868a3f19bdd51fcfc1c', 'sha256:36021ac98033b8d9181d5b06f71784d1ece93faf5a45d1aab5280c705f1511ba'],
  ['app', 0, 'sha256:04cd5db5b2a7fae8cea94022a4dd180947855148aadfacbf0bf1be0cd25c3c36', 'sha256:04fd582e0f4afbd8c0d5484585055c21b6ae96c11caf8795c1250f438e56dd3b'],
  // The one-file `.gamelayer-tree` sentinel layers of the tree images.
  ['engine', 1, 'sha256:34f4222bbd64f8fce8f273395a2fa22201aa3176ca73c5b8a32d85e6bae880f6', 'sha256:08d195eaf0383979baaf0b36d0a4d66532f8b2335e425aa8e7c09ea79f98c776'],
  ['engine-media', 1, 'sha256:2bd52a19d0a02098ab6200e32b52e6678abc1c9e637acdf26c450f01d8b09cdc', 'sha256:7967d1dceb01dbdce909c422220266d076801affdcc0fa289f273ff168f33128'],
  ['app', 1, 'sha256:913f8598a3dc2cb6f6d78ddfccec119fd38ba70a5838ccd750cf1869b9d1364a', 'sha256:f1c452191ead7c26fbadaf5fd8ff131e4b2a24bca99d85f372cbf3d48d7ee0be'],
  ['app-media', 1, 'sha256:fc9aa1d66a7ecab6eaed8af79919fe9acd21bb469b165633dfa4352631dbdd48', 'sha256:1e40f3244c327a7ea78d3438b8fb6515d1993680f29494434f35c8322781e1ad'],
];

// The server image stacks engine-media, engine, app-media, app (docs/compaction.md); the tree images hold one tree each.
const IMAGES = [
  ['server', 'linux/amd64', 'sha256:0ac3aa7ea34d7ef0fd9fd72946ea1a548a7319eec61ce80c8cd39bc9decf5e78'],
  ['engine', 'linux/amd64', 'sha256:612fd5b7da706d96998f4f7b087d95f044143d73f766ab4519fb6f8004b1a09f'],
  ['engine-media', 'linux/amd64', 'sha256:93076c72b98f207e97f593f129cc28a917bdc4f78e0f752cf6fb987ea7fee21d'],
  ['app', 'linux/amd64', 'sha256:0d8c4f9a76e3bbbf0828744e1dfc2b178ba55ef0c80a3525c4f06324a349939a'],
  ['app-media', 'linux/amd64', 'sha256:0f4ce1488005f397a07101cc2abc5f12f5ef5d679aeb7c2ca6c9a3ba1215c218'],
];

describe('golden digests of the sample game', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SOURCE_DATE_EPOCH;
    delete process.env.SOURCE_DATE_EPOCH; // the pinned bytes are those of mtime 0
  });
  afterEach(() => {
    if (saved !== undefined) process.env.SOURCE_DATE_EPOCH = saved;
  });

  it('builds exactly the pinned layer, diffID and image digests (gzip, default settings)', async () => {
    const dir = path.join(await tempDir('gl-golden-'), 'game');
    copySample(dir, '077');
    const r = await build({ config: await sampleConfig(dir) });
    expect(r.record.layers.map((l) => [l.tree, l.index, l.digest, l.diffID])).toEqual(LAYERS);
    expect(r.record.images.map((i) => [i.name, i.platform, i.digest])).toEqual(IMAGES);
    expect(r.record.index).toBeUndefined();
  });
});
