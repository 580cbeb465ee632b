// `gamelayer push` to ECR as a user runs it (a real process): AWS credentials from the environment (the SDK's
// standard chain), the ECR API endpoint from GAMELAYER_ECR_ENDPOINT or --endpoint, the fake ECR in front of a real
// registry. The registry password (the token) must never show in the output.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { addTag, randomContent } from './support/make-layout.js';
import { storedTags } from './support/registry.js';

const CLI = path.resolve('bin/gamelayer.js');
let work: string;
let config: string;
let ecr: FakeEcr;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '-c', config, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work, // no ~/.aws or ~/.docker: only what the test gives
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-ecr-cli-'));
  ecr = await startFakeEcr();
  await addTag(path.join(work, 'oci'), 'v1', [{ layers: [{ files: { 'a.bin': randomContent(40_000) } }, { files: { 'b.cfg': 'y=2' } }] }]);
  config = path.join(work, 'gamelayer.yaml');
  await writeFile(
    config,
    `game: my-game\nstart: ./start.sh\nstore: oci\nregistry: ${ecr.host}/studio/game\n` +
      `trees:\n  engine: { source: engine }\n  engine-media: { source: engine-media }\n  app: { source: app }\n  app-media: { source: app-media }\n`,
  );
});
afterAll(async () => {
  await ecr?.stop();
  await rm(work, { recursive: true, force: true });
});

const noLeak = (r: { stdout: string; stderr: string }) => {
  const password = ecr.registry.users[0]!.password;
  expect(r.stdout + r.stderr).not.toContain(password);
  expect(r.stdout + r.stderr).not.toContain(Buffer.from(`AWS:${password}`).toString('base64'));
  expect(r.stdout + r.stderr).not.toContain(FAKE_CREDENTIALS.secretAccessKey);
};

describe('gamelayer push --ecr', () => {
  it('a missing repository: exit 1, the repository named, --create-repo suggested', async () => {
    const r = await cli(['push', 'v1', '--ecr', '--region', 'eu-west-3'], { GAMELAYER_ECR_ENDPOINT: ecr.endpoint });
    noLeak(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[ecr.no-repository]: ECR repository "studio/game" does not exist in ${ecr.host} (region eu-west-3)`);
    expect(r.stderr).toContain('--create-repo');
    expect(r.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it('--create-repo --immutable-tags --scan-on-push creates the repository and pushes; JSON result', async () => {
    const r = await cli(['push', 'v1', '--ecr', '--region', 'eu-west-3', '--endpoint', ecr.endpoint, '--create-repo', '--immutable-tags', '--scan-on-push', '--json']);
    noLeak(r);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { digest: string; blobs: { uploaded: number } };
    expect(out.blobs.uploaded).toBe(3);
    expect(ecr.repositories.get('studio/game')).toMatchObject({ mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*', 'sha256-*'], scanOnPush: true });
    expect((await storedTags(ecr.registry.storageDir, 'studio/game')).v1).toBe(out.digest);
    // The SDK took the region from --region and the key from the environment.
    expect(ecr.calls.filter((c) => c.op === 'GetAuthorizationToken').at(-1)).toMatchObject({ region: 'eu-west-3', accessKeyId: FAKE_CREDENTIALS.accessKeyId });
  });

  it('pushing the same image to the immutable tag again is "up to date"; no AWS credentials is a clear error', async () => {
    const again = await cli(['push', 'v1', '--ecr', '--region', 'eu-west-3'], { GAMELAYER_ECR_ENDPOINT: ecr.endpoint });
    noLeak(again);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already up to date, nothing sent');

    const none = await cli(['push', 'v1', '--ecr', '--region', 'eu-west-3'], {
      GAMELAYER_ECR_ENDPOINT: ecr.endpoint,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no AWS credentials found');
    expect(none.stderr).toContain('hint: set AWS_PROFILE');
  });
});
