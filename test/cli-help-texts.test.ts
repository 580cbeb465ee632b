// Help texts that say what the command does: the files `k8s --out` writes (it named only <kind>.yaml, while
// --volumes none / image write <kind>-server-image.yaml / <kind>-image-volumes.yaml), and that `push REF` of a
// build sends the whole build and its record (it said "push an image").
import { describe, expect, it } from 'vitest';
import { k8sFileName } from '../src/k8s/workloads.js';
import { runCli } from './support/cli-process.js';

const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('help texts', () => {
  it('k8s --help names every file --out writes', async () => {
    const help = flat((await runCli(['k8s', '--help'])).stdout);
    for (const volumes of ['init', 'none', 'image'] as const) {
      expect(help).toContain(k8sFileName({ kind: '<kind>' as never, volumes }));
    }
  });

  it('push --help and the command list say a build is pushed with its record', async () => {
    expect(flat((await runCli(['push', '--help'])).stdout)).toContain('push a build (its five images, then its build record)');
    expect(flat((await runCli(['--help'])).stdout)).toContain('push a build (its five images, then its build record)');
  });
});
