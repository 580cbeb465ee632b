// A base image counts against layers.maxLayers; one with so many layers that fewer than one is left for each tree is
// refused at the baseImage field, naming the count and the limit (`base.too-many-layers`). It was an internal error
// from the planner: `error[internal]: planLayers: the base image has 97 layers, leaving fewer than one per tree`.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { addTag } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function gameOnLayers(n: number): Promise<string> {
  const dir = await tempDir(`gl-base-${n}-layers-`);
  await writeTinyGame(dir, ['game: many-base-layers', 'start: [/opt/local/engine/run]', 'baseImage: oci:base:b', 'layers: {maxLayers: 100}']);
  await addTag(path.join(dir, 'base'), 'b', [{ layers: Array.from({ length: n }, (_, i) => ({ files: { [`etc/l${i}`]: `${i}\n` } })) }]);
  return dir;
}

describe('a base image with more layers than layers.maxLayers leaves room for', () => {
  it('97 layers under 100: build and dockerfile refuse it at baseImage, naming the count and the limit', async () => {
    const dir = await gameOnLayers(97);
    const at = `${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: oci:base:b has 97 layers; under layers.maxLayers 100 that leaves fewer than one layer for each of the 4 trees\n`;
    const hint = 'hint: use a base image with at most 96 layers (squash it), or raise layers.maxLayers (at most 120)\n';
    for (const args of [['build'], ['dockerfile', '--out', path.join(dir, 'docker')]]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.stderr, args[0]).toContain(`error[base.too-many-layers]: ${at}${hint}`);
      expect(r.code).toBe(1);
    }
  });

  it('96 layers under 100: one layer per tree, built (control)', async () => {
    const dir = await gameOnLayers(96);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });
});
