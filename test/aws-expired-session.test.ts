// Short-lived AWS credentials that ran out (an SSO or assumed-role session in the environment): every AWS API
// answers ExpiredTokenException. ECR's calls said so; `codebuild start` said `codebuild.api: …` with no hint, and a
// KMS signing key said to check the key, its spec and its policy. Each now says the credentials expired and how to
// renew them, and nothing is pushed. Real processes, the real SDK, the local stand-ins of ECR, CodeBuild and KMS.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFakeCodeBuild, TEST_CREDENTIALS, TEST_REGION } from './support/fake-codebuild.js';
import { KMS_TEST_CREDENTIALS, startFakeKms } from './support/fake-kms.js';
import { useEcrGame } from './support/ecr-game.js';
import { storedRepositories } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { EXPIRED_SESSION_PREFIX } from './support/sigv4.js';

const game = useEcrGame('gl-expired-');
const registry = useRegistry();
const session = { AWS_SESSION_TOKEN: `${EXPIRED_SESSION_PREFIX}IQoJb3JpZ2luX2VjE`, AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: undefined };
const RENEW = 'hint: renew them (aws sso login, a new assume-role session) and run again';

describe('an expired AWS session', () => {
  it('codebuild start: the credentials expired, not a CodeBuild failure', async () => {
    const fake = await startFakeCodeBuild();
    try {
      fake.project('game-ok');
      const r = await runCli(['codebuild', 'start', '--project', 'game-ok', '--endpoint', fake.endpoint, '--region', TEST_REGION], {
        cwd: game.dir,
        env: { HOME: game.dir, AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey, ...session },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error[codebuild.credentials]: StartBuild of project game-ok (endpoint ${fake.endpoint}): the AWS credentials have expired: The security token included in the request is expired`);
      expect(r.stderr).toContain(RENEW);
    } finally {
      await fake.stop();
    }
  });

  it('build --push --sign awskms: the credentials expired, not the key; nothing pushed', async () => {
    const kms = await startFakeKms();
    try {
      const key = `awskms://${kms.host}/${kms.createKey()}`;
      const env = { ...game.env(), AWS_ACCESS_KEY_ID: KMS_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: KMS_TEST_CREDENTIALS.secretAccessKey, AWS_REGION: 'eu-west-1', ...session };
      const r = await runCli(['build', '-t', 'v1', '--push', `${registry.host}/studio/signed`, '--sign', key], { cwd: game.dir, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error\[sign\.kms\]: KMS GetPublicKey for arn:aws:kms:[^ ]+ \(region eu-west-1\): the AWS credentials have expired: The security token included in the request is expired/);
      expect(r.stderr).toContain(RENEW);
      expect(r.stderr).not.toContain('ECC_NIST_P256');
      expect(await storedRepositories(registry.storageDir)).toEqual([]);
    } finally {
      await kms.stop();
    }
  });

  it('build --push to ECR: the credentials expired (as before); nothing pushed', async () => {
    game.ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const r = await runCli(['build', '-t', 'v1', '--push', `${game.ecr.host}/studio/game`, '--ecr', '--endpoint', game.ecr.endpoint, '--region', 'eu-west-1'], { cwd: game.dir, env: { ...game.env(), ...session } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[ecr\.ExpiredTokenException\]: ECR [A-Za-z]+ .*: the AWS credentials have expired: The security token included in the request is expired/);
    expect(r.stderr).toContain(RENEW);
    expect(await storedRepositories(game.ecr.registry.storageDir)).toEqual([]);
  });
});
