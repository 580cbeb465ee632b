// The library's `pushSbom` put an SBOM artifact without `dev.gamelayer.sbom.key` (the CLI's `build --sbom` writes it):
// a build never recognised such an SBOM, so the next `build --push --sbom` attached a second one beside it (the same
// document) and `--sign`, `verify` and `sbom` refused the image (sbom.several). Now both go through one artifact.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, makeBuildSbom, OciStore, parseReference, pushSbom, pushTargetFor, readBuildRecord, recordsDir } from '../src/index.js';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-library-');
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('the library\'s pushSbom', () => {
  it('attaches the artifact build --sbom would: a build recognises it, reuses it, and signs it', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/library-sbom';
    const repo = `${fx.reg.host}/${name}`;
    const built = await runCli(['build', '-t', 'v1', '--push', repo], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const record = await readBuildRecord(path.join(recordsDir(config.stateDir), 'build-last.json'));
    const store = await OciStore.open(config.store, { create: false });
    const sbom = await makeBuildSbom(config, store, record);
    const target = await pushTargetFor(parseReference(repo), {});
    const pushed = await pushSbom(target, name, sbom.subject, sbom);

    const index = (await (await fetch(`${fx.reg.url}/v2/${name}/manifests/${sbom.subject.digest.replace(':', '-')}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([pushed.digest]);
    expect(index.manifests[0]!.annotations?.['dev.gamelayer.sbom.key']).toMatch(/^sha256:[0-9a-f]{64}$/);

    const again = await runCli(['build', '-t', 'v2', '--push', repo, '--sbom', '--sign', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`SBOM ${pushed.digest}`);
    expect(again.stdout).toContain('(already attached)');
    const verified = await runCli(['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified sbom ${pushed.digest}`);
  });
});
