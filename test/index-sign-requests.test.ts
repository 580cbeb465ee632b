// `index --sign` when nothing is new (the indexes there, every digest signed by this key under its name) made 147
// requests on the two-platform sample: per digest a HEAD of the manifest, a HEAD then a GET of its `.sig` tag and a GET
// of every payload blob in it, and per index the SBOM listing twice over (the referrers API, then the tag schema); then the referrers API was
// still asked once per listing on a registry that had said it has none.
// Now a signature this gamelayer would write is recognised from the `.sig` manifest alone (its payload's digest is
// known), so the run is bounded by the structure: a few requests per merged index and per manifest under it.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { tempDir } from './support/tmp.js';
import { cp } from 'node:fs/promises';

const fx = useSigningFixture('index-sign-requests-');
const counting = useCountingRegistry('buffer');
const sample = useTwoPlatformSample();
const PLATFORMS = ['linux/amd64', 'linux/arm64'] as const;

async function cli(dir: string, ...args: string[]) {
  const r = await runCli(args, { cwd: dir });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

let merger = '';
beforeAll(async () => {
  const repo = `${counting.proxy.host}/studio/merged`;
  const key = path.join(fx.root, 'key.pem');
  for (const p of PLATFORMS) {
    const dir = await tempDir();
    await cp(sample.dir, dir, { recursive: true, verbatimSymlinks: true });
    await cli(dir, 'build', '--platform', p, '--tag', 'v1', '--push', repo, '--sbom', '--sign', key);
  }
  merger = await tempDir();
  await cp(sample.dir, merger, { recursive: true, verbatimSymlinks: true });
  await cli(merger, 'index', repo, '--tag', 'v1', '--sign', key);
}, 400_000);

describe('index --sign with nothing new', () => {
  it('sends a number of requests bounded by the indexes and the manifests under them', async () => {
    const repo = `${counting.proxy.host}/studio/merged`;
    const key = path.join(fx.root, 'key.pem');
    // Without --sign first: what merging alone asks.
    counting.proxy.reset();
    await cli(merger, 'index', repo, '--tag', 'v1');
    const merging = counting.proxy.seen.length;
    counting.proxy.reset();
    const r = await cli(merger, 'index', repo, '--tag', 'v1', '--sign', key, '--json');
    const seen = counting.proxy.seen;
    const out = JSON.parse(r.stdout) as { indexes: unknown[]; signatures: { signed: { upToDate: boolean }[] }[] };
    const signed = out.signatures.flatMap((s) => s.signed);
    expect(signed.length).toBeGreaterThan(out.indexes.length);
    expect(signed.every((s) => s.upToDate)).toBe(true);
    expect(seen.filter((q) => q.method !== 'GET' && q.method !== 'HEAD')).toEqual([]);
    // Per merged index: its tag resolved (1), its SBOM listing (1: the tag schema's alone once the registry said it
    // has no referrers API, which was asked again for every listing: 2) and its platform manifests (1); per digest
    // signed (the index and each manifest under it): its `.sig` manifest (1). The key's own checks are not requests.
    expect(seen.length - merging).toBeLessThanOrEqual(3 * out.indexes.length + signed.length);
  });
});
