// `build --push --sign awskms:///…` with credentials that may read the key (kms:GetPublicKey) but not sign with it
// (kms:Sign missing from the role's policy, a common slip): the key was asked only for its public key before the
// build, so the five images, the build record and the line tag went up unsigned before Sign was refused, and a
// deploy that verifies signatures then refused the line's newest build. A probe signature now goes with that first
// ask: the build is refused before anything is pushed, the error naming kms:Sign.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { KMS_ENV, useRegistryAndKms } from './support/kms-registry.js';
import { storedRepositories } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const fx = useRegistryAndKms();
const env = KMS_ENV;

describe('build --push --sign with a KMS key the credentials may not sign with', () => {
  it('fails before anything is pushed, naming kms:Sign', async () => {
    const { reg, kms } = fx;
    const dir = path.join(await tempDir('gl-kms-denied-'), 'game');
    await writeGame(dir);
    const arn = kms.createKey();
    kms.signDenied.add(arn);
    const r = await runCli(['build', '-t', 'v1', '--push', `${reg.host}/studio/game`, '--sign', `awskms://${kms.host}/${arn}`], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[sign.kms]: KMS Sign for ${arn} (region eu-west-1) failed: AccessDeniedException:`);
    expect(r.stderr).toContain('is not authorized to perform: kms:Sign');
    expect(await storedRepositories(reg.storageDir)).toEqual([]);
  });
});
