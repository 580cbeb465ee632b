// Numbers YAML has and JSON has not (`.inf`, `-.inf`, `.nan`, and `1e400`, read as infinity) and other values that
// are no size, through the CLI: each named as written, at its line and field. Was: zod's "Invalid input" for a size,
// "expected a number, got number null" for maxLayers (JSON's spelling of infinity), and 1e30 taken as a size.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

/** The error line `scan` prints for a game whose yaml ends with `line` (line 9 of the file). */
async function errorFor(line: string): Promise<string> {
  const dir = await tempDir();
  await writeGame(dir);
  await appendFile(path.join(dir, 'gamelayer.yaml'), `${line}\n`);
  const r = await runCli(['scan'], { cwd: dir });
  expect(r.code).toBe(1);
  const first = r.stderr.split('\n')[0]!;
  expect(first.startsWith(`error[config.invalid]: ${dir}/gamelayer.yaml:9:`)).toBe(true);
  return first.slice(first.indexOf(':9:') + 1);
}

const SIZE = 'expected a size such as 512MiB, 2GiB or a byte count, got';

describe('values that are no number or no size, named as the YAML wrote them', () => {
  it('sizes: .inf, -.inf, .nan, 1e400, a boolean, a list, a count past 2^53', async () => {
    expect(await errorFor('layers: {targetSize: .inf}')).toBe(`9:22: layers.targetSize: ${SIZE} .inf`);
    expect(await errorFor('layers: {targetSize: -.inf}')).toBe(`9:22: layers.targetSize: ${SIZE} -.inf`);
    expect(await errorFor('layers: {maxLayerSize: .nan}')).toBe(`9:24: layers.maxLayerSize: ${SIZE} .nan`);
    expect(await errorFor('layers: {maxLayerSize: 1e400}')).toBe(`9:24: layers.maxLayerSize: ${SIZE} .inf`);
    expect(await errorFor('layers: {targetSize: true}')).toBe(`9:22: layers.targetSize: ${SIZE} true`);
    expect(await errorFor('layers: {targetSize: [512MiB]}')).toBe(`9:22: layers.targetSize: ${SIZE} a list`);
    expect(await errorFor('layers: {targetSize: 1e30}')).toBe(`9:22: layers.targetSize: ${SIZE} 1e+30`);
  });

  it('whole numbers: .inf and .nan are "not a finite number", not "number null"', async () => {
    expect(await errorFor('layers: {maxLayers: .inf}')).toBe('9:21: layers.maxLayers: expected a finite number, got number .inf');
    expect(await errorFor('deploy: {ports: [{containerPort: .nan}]}')).toBe('9:34: deploy.ports.0.containerPort: expected a finite number, got number .nan');
  });
});
