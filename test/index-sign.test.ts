// Supply chain of a merged multi-platform build (the CodeBuild batch graph): each platform's host runs
// `build --platform P --push --sbom --sign KEY`, then `gamelayer index --sign KEY` signs the merged indexes. Before,
// `index` had no --sign, so `verify REF` of the merged tag failed on its unsigned index (no way to sign it in the
// pipeline but `sign` once per image), and `verify --require-sbom` wanted an SBOM on the index, where no step can put
// one: the platform builds attach theirs to their own manifests, which the index names.
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry } from './support/registry.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { tempDir } from './support/tmp.js';

const fx = useSigningFixture('index-sign-');
const sample = useTwoPlatformSample();

const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;
type Platform = (typeof PLATFORMS)[number];
/** Per platform, a game folder whose state holds that platform's local build (no push, no SBOM, unsigned). */
const built = {} as Record<Platform, string>;

/**
 * A host of its own: a copy of the game folder with an empty state, or (`platform`) with that platform's local build
 * in its state, so the test's `build --platform P --push` reuses the layers instead of writing them again (a cold
 * build of the sample is most of such a run's time); what it pushes, attaches and signs is its own.
 */
async function host(platform?: Platform): Promise<string> {
  const dir = await tempDir();
  await cp(platform ? built[platform] : sample.dir, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

async function cli(dir: string, ...args: string[]) {
  const r = await runCli(args, { cwd: dir });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

beforeAll(async () => {
  for (const p of PLATFORMS) {
    const dir = await host();
    await cli(dir, 'build', '--platform', p, '--tag', 'v1');
    built[p] = dir;
  }
}, 240_000);

describe('index --sign', () => {
  it('signs the merged indexes; verify --require-sbom takes the platform builds\' SBOMs', async () => {
    const repo = `${fx.reg.host}/studio/merged`;
    const key = path.join(fx.root, 'key.pem');
    const pub = path.join(fx.root, 'pub.pem');
    for (const p of PLATFORMS) await cli(await host(p), 'build', '--platform', p, '--tag', 'v1', '--push', repo, '--sbom', '--sign', key);
    const merger = await host();
    await cli(merger, 'index', repo, '--tag', 'v1');
    const unsigned = await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: merger });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/image sha256:[0-9a-f]{64}: not verified: no signature/);

    const signed = await cli(merger, 'index', repo, '--tag', 'v1', '--sign', key);
    expect(signed.stdout).toMatch(/^signatures: \d+ new, \d+ already there$/m);
    for (const tag of ['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media']) {
      const v = await runCli(['verify', `${repo}:${tag}`, '--key', pub, ...(tag === 'v1' ? ['--require-sbom'] : [])], { cwd: merger });
      expect(v.code, `${tag}: ${v.stderr}`).toBe(0);
      expect(v.stdout.match(/^verified platform manifest /gm)).toHaveLength(2);
      if (tag === 'v1') expect(v.stdout.match(/^verified sbom /gm)).toHaveLength(2);
    }
    // Signing again adds nothing.
    expect((await cli(merger, 'index', repo, '--tag', 'v1', '--sign', key)).stdout).toMatch(/^signatures: 0 new, \d+ already there$/m);
  }, 240_000);

  it('verify --require-sbom of a merged index fails when one platform build attached no SBOM, naming its manifest', async () => {
    const repo = `${fx.reg.host}/studio/half`;
    const key = path.join(fx.root, 'key.pem');
    await cli(await host('linux/amd64'), 'build', '--platform', 'linux/amd64', '--tag', 'v1', '--push', repo, '--sbom', '--sign', key);
    await cli(await host('linux/arm64'), 'build', '--platform', 'linux/arm64', '--tag', 'v1', '--push', repo, '--sign', key);
    const merger = await host();
    await cli(merger, 'index', repo, '--tag', 'v1', '--sign', key);
    const v = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: merger });
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/no SBOM attached to image sha256:[0-9a-f]{64} nor to its platform manifest sha256:[0-9a-f]{64}(?!,)/);
  }, 240_000);

  it('signs with the credentials read once from --password-stdin (a registry that needs them)', async () => {
    const locked = await startRegistry({ auth: 'basic' });
    try {
      const user = locked.users[0]!;
      const repo = `${locked.host}/studio/locked`;
      const key = path.join(fx.root, 'key.pem');
      const auth = ['--username', user.username, '--password-stdin'];
      for (const p of PLATFORMS) {
        const b = await runCli(['build', '--platform', p, '--tag', 'v1', '--push', repo, ...auth], { cwd: await host(p), stdin: `${user.password}\n` });
        expect(b.code, b.stderr).toBe(0);
      }
      const merged = await runCli(['index', repo, '--tag', 'v1', '--sign', key, ...auth], { cwd: await host(), stdin: `${user.password}\n` });
      expect(merged.code, merged.stderr).toBe(0);
      expect(merged.stdout).toMatch(/^signatures: [1-9]\d* new, 0 already there$/m);
    } finally {
      await locked.stop();
    }
  }, 240_000);

  it('a key that cannot sign fails before anything is merged', async () => {
    const repo = `${fx.reg.host}/studio/nokey`;
    const merger = await host();
    const r = await runCli(['index', repo, '--tag', 'v1', '--sign', path.join(fx.root, 'missing.pem')], { cwd: merger });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('missing.pem');
    const tags = await fetch(`${fx.reg.url}/v2/studio/nokey/tags/list`);
    expect(tags.status).toBe(404);
  });
});
