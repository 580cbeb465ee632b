// `layers: {targetSize: 512}` is 512 bytes (a size without a unit counts bytes) and the plan split every tree into a
// layer per file up to maxLayers, without a word: only diff hinted. build and dockerfile now warn about a bare number
// below 1 MiB, naming the line and the fix (512MiB, or 512B to keep bytes); a size with a unit, or a bare one of
// 1 MiB or more, says nothing.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function gameWith(targetSize: string): Promise<string> {
  const dir = await tempDir('gl-bare-size-');
  await writeTinyGame(dir, ['game: bare-size', 'start: [/opt/local/engine/f.txt]', `layers: {targetSize: ${targetSize}}`]);
  return dir;
}

const warningsOf = (stderr: string) => stderr.split('\n').filter((l) => l.includes('layers.targetSize'));

describe('layers.targetSize written as a bare number', () => {
  it.each([['build'], ['dockerfile']])('%s warns about 512 (bytes) with the line and the fix', async (command) => {
    const dir = await gameWith('512');
    const r = await runCli([command], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(warningsOf(r.stderr)).toEqual([
      `warning: ${dir}/gamelayer.yaml:3:22: layers.targetSize: 512 has no unit, so it is 512 bytes: the trees are split into layers of about 512 bytes, ` +
        'every file that big or bigger a layer of its own (up to layers.maxLayers); write 512MiB if megabytes were meant, or 512B to keep 512 bytes without this warning',
    ]);
  });

  it.each([['512B'], ['512KiB'], ['1048576']])('%s: no warning', async (size) => {
    const dir = await gameWith(size);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(warningsOf(r.stderr)).toEqual([]);
  });
});
