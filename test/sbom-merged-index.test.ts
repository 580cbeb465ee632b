// `sbom REPO:TAG` of a merged multi-platform build (platform builds pushed with --sbom, then `index`): the SBOMs are
// on the platform manifests, not the index. The hint said "build with --push REPO --sbom to attach one", which the
// user had done; it now names each platform manifest to ask, and each of those refs prints its SBOM.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();
const sample = useTwoPlatformSample();

async function cli(...args: string[]) {
  const r = await runCli(args, { cwd: sample.dir });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

describe('sbom of a merged multi-platform build', () => {
  it('names the platform manifests that carry the SBOMs, and those print them', async () => {
    const repo = `${registry.host}/studio/sbom-merged-${process.pid}`;
    for (const p of ['linux/amd64', 'linux/arm64']) await cli('build', '--platform', p, '--tag', 'v1', '--push', repo, '--sbom');
    await cli('index', repo, '--tag', 'v1');
    const r = await runCli(['sbom', `${repo}:v1`], { cwd: sample.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[sbom.not-found]: ');
    expect(r.stderr).toContain('hint: a multi-platform index: the SBOMs of a merged build are attached to its platform manifests');
    expect(r.stderr).not.toContain('build with --push REPO --sbom to attach one');
    const refs = [...r.stderr.matchAll(/gamelayer sbom (\S+@sha256:[0-9a-f]{64}) \((linux\/\w+)\)/g)];
    expect(refs.map((m) => m[2]).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    for (const m of refs) {
      const one = await cli('sbom', m[1]!);
      expect(JSON.parse(one.stdout).bomFormat).toBe('CycloneDX');
    }
    // With --key: it said "none of the 0 SBOMs attached … is signed by this key" and "build with --push REPO --sbom --sign KEY".
    execFileSync('sh', ['-c', 'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out pub.pem'], { cwd: sample.dir });
    const keyed = await runCli(['sbom', `${repo}:v1`, '--key', 'pub.pem'], { cwd: sample.dir });
    expect(keyed.code).toBe(1);
    expect(keyed.stderr).toContain(`: no SBOM attached to sha256:`);
    expect(keyed.stderr).toContain('hint: a multi-platform index: the SBOMs of a merged build are attached to its platform manifests');
  }, 240_000);
});
