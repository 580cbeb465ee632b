// `sign --key awskms://…` when KMS cannot be reached or no AWS credentials exist: the error says which, with a hint
// that fits. Both printed "KMS GetPublicKey … failed: Error: …" with the hint "check the key id, that the key is
// ECC_NIST_P256 …", which sends the user to the key when the network (or the credentials) is what is wrong.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { freePort, startRegistry, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let dir: string;
let reg: TestRegistry;
const ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-kms-errors-'));
  reg = await startRegistry();
  dir = path.join(root, 'game');
  await writeGame(dir);
  expect((await runCli(['build', '-t', 'v1', '--push', `${reg.host}/studio/game`], { cwd: dir })).code).toBe(0);
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

// No credentials from anywhere but what a test gives: no ~/.aws, no instance metadata.
const bare = { HOME: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined, AWS_REGION: undefined };

describe('sign with a KMS key it cannot reach', () => {
  it('nothing listening at the endpoint: "cannot reach KMS" and a network hint', async () => {
    const port = await freePort();
    const r = await runCli(['sign', `${reg.host}/studio/game:v1`, '--key', `awskms://127.0.0.1:${port}/${ARN}`], { cwd: dir, env: { ...bare, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'Example-Secret-5151' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[sign.kms]: KMS GetPublicKey for ${ARN} (region eu-west-1): cannot reach KMS at http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(r.stderr).toContain('hint: check the network and HTTPS_PROXY / NO_PROXY, and the endpoint (awskms://HOST/KEY or GAMELAYER_KMS_ENDPOINT)');
    expect(r.stderr).not.toContain('Example-Secret-5151');
  });
  it('no AWS credentials: says so', async () => {
    const port = await freePort();
    const r = await runCli(['sign', `${reg.host}/studio/game:v1`, '--key', `awskms://127.0.0.1:${port}/${ARN}`], { cwd: dir, env: bare });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[sign.kms]: KMS GetPublicKey for ${ARN}: no AWS credentials found`);
    expect(r.stderr).toContain('hint: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is attached');
  });
});
