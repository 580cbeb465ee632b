// k8s/ holds what gamelayer emits for fixtures/sample-game; this test fails when the two drift apart.
// Regenerate with: UPDATE_SAMPLES=1 npx vitest run test/k8s-samples.test.ts
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const SAMPLES = path.resolve('k8s');
export const SAMPLE_REPOSITORY = '123456789012.dkr.ecr.us-east-1.amazonaws.com/sample-game';

const VARIANTS: { file: string; args: string[] }[] = [
  { file: 'pod.yaml', args: ['k8s', '--kind', 'pod'] },
  { file: 'deployment.yaml', args: ['k8s', '--kind', 'deployment', '--replicas', '2'] },
  { file: 'gameserver.yaml', args: ['k8s', '--kind', 'gameserver'] },
  { file: 'fleet.yaml', args: ['k8s', '--kind', 'fleet', '--replicas', '3'] },
  { file: 'pod-image-volumes.yaml', args: ['k8s', '--kind', 'pod', '--volumes', 'image'] },
  { file: 'fleet-copies.yaml', args: ['k8s', '--kind', 'fleet', '--volumes', 'init', '--replicas', '3'] },
  { file: 'pod-server-image.yaml', args: ['k8s', '--kind', 'pod', '--volumes', 'none'] },
  { file: 'ecs-task-definition.json', args: ['ecs'] },
];

describe('k8s/ samples', () => {
  it('match what gamelayer emits for the sample game', async () => {
    const dir = await tempDir();
    copySample(dir);
    await run(BIN, ['build'], { cwd: dir });
    const emitted: Record<string, string> = {};
    for (const v of VARIANTS) {
      // Never pushed: --local skips the check that the images are in the registry.
      emitted[v.file] = (await run(BIN, [...v.args, '--repository', SAMPLE_REPOSITORY, '--local'], { cwd: dir })).stdout;
    }
    if (process.env.UPDATE_SAMPLES) {
      for (const [f, text] of Object.entries(emitted)) await writeFile(path.join(SAMPLES, f), text);
    }
    for (const [f, text] of Object.entries(emitted)) {
      expect(await readFile(path.join(SAMPLES, f), 'utf8'), `k8s/${f} drifted: regenerate it (see the test's header)`).toBe(text);
    }
    const checkedIn = (await readdir(SAMPLES)).filter((f) => f !== 'README.md').sort();
    expect(checkedIn).toEqual(Object.keys(emitted).sort());
  }, 180_000); // one CLI process per sample
});
