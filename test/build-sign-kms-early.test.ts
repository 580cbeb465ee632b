// `build --push --sign awskms:///…` with a KMS key that cannot sign (RSA, unknown, no access): the key is asked
// before the build, as a PEM key is read before it, so nothing is pushed. It used to fail only after the five
// images and the build record were in the registry (and the line's tag moved), the key asked at signing time.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { KMS_ENV, useRegistryAndKms } from './support/kms-registry.js';
import { storedRepositories } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const fx = useRegistryAndKms();
const env = KMS_ENV;

describe('build --push --sign with a KMS key that cannot sign', () => {
  it('fails before anything is pushed: an RSA key, then wrong credentials', async () => {
    const { reg, kms } = fx;
    const dir = path.join(await tempDir('gl-kms-early-'), 'game');
    await writeGame(dir);
    const repo = `${reg.host}/studio/game`;
    const rsa = await runCli(['build', '-t', 'v1', '--push', repo, '--sign', `awskms://${kms.host}/${kms.createRsaKey()}`], { cwd: dir, env });
    expect(rsa.code).toBe(1);
    expect(rsa.stderr).toContain('RSA_2048');
    expect(await storedRepositories(reg.storageDir)).toEqual([]);

    const key = `awskms://${kms.host}/${kms.createKey()}`;
    const denied = await runCli(['build', '-t', 'v1', '--push', repo, '--sign', key], { cwd: dir, env: { ...env, AWS_SECRET_ACCESS_KEY: 'Wrong-Kms-Secret-4545' } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('error[sign.kms]: KMS GetPublicKey');
    expect(await storedRepositories(reg.storageDir)).toEqual([]);

    // The right key: pushed and signed, its public key asked once.
    const before = kms.calls.filter((c) => c.op === 'GetPublicKey').length;
    const good = await runCli(['build', '-t', 'v1', '--push', repo, '--sign', key], { cwd: dir, env });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('signatures: 5 new');
    expect(await storedRepositories(reg.storageDir)).toEqual(['studio/game']);
    expect(kms.calls.filter((c) => c.op === 'GetPublicKey').length - before).toBe(1);
  });
});
