// build --push / push to several destinations took --ecr and --endpoint for every destination: `--push <ECR> --push
// <plain registry> --ecr --endpoint URL` treated the plain registry as ECR too (its repository looked up and created
// through the ECR API, its pushes sent ECR's token), and one --endpoint served ECR hosts of several regions (the
// other regions' API calls went to that one region's endpoint). Both are refused before anything runs, naming the
// flag and the hosts: with several destinations --ecr cannot say which is the ECR one, and one endpoint serves one
// region. The ECR-only flags that do apply per host (--create-repo, --scan-on-push, --immutable-tags, --region) go to
// the ECR destinations only: a plain registry ignores them.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { startRegistry, storedRepositories, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let dir: string;
let ecr: FakeEcr;
let plain: TestRegistry;
const env = () => ({
  HOME: dir,
  AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_REGION: 'eu-west-1',
  AWS_PROFILE: undefined,
  GAMELAYER_ECR_ENDPOINT: undefined,
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gl-multi-ecr-flags-'));
  await writeGame(dir);
  ecr = await startFakeEcr();
  plain = await startRegistry();
});
afterAll(async () => {
  await ecr?.stop();
  await plain?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const EU = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/studio/game';
const US = '123456789012.dkr.ecr.us-east-1.amazonaws.com/studio/game';

describe('registry flags with several destinations', () => {
  it('--ecr with a plain registry among the destinations: refused before the build, naming the hosts', async () => {
    const r = await runCli(['build', '--tag', 'v1', '--push', `${ecr.host}/studio/game`, '--push', `${plain.host}/studio/game`, '--ecr', '--endpoint', ecr.endpoint, '--create-repo'], { cwd: dir, env: env() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`error[cli.ecr-flags]: --ecr with 2 destinations: it would treat each as Amazon ECR, ${ecr.host} and ${plain.host} alike, and cannot tell which one is`);
    expect(r.stderr).toContain('hint: push the ECR one alone with --ecr (gamelayer build --push HOST/REPO --ecr …), then the others with gamelayer push HOST/REPO:TAG');
    expect(r.stderr).not.toMatch(/^build /m);
    // Nothing went to either: no repository created through the ECR API, none stored in the plain registry.
    expect(ecr.calls.map((c) => c.op)).toEqual([]);
    expect(await storedRepositories(plain.storageDir)).toEqual([]);
    const push = await runCli(['push', `${ecr.host}/studio/game:v1`, `${plain.host}/studio/game:v1`, '--ecr'], { cwd: dir, env: env() });
    expect(push.stderr).toContain('error[cli.ecr-flags]: --ecr with 2 destinations');
  });

  it('one --endpoint (or GAMELAYER_ECR_ENDPOINT) for ECR hosts in two regions: refused, naming the regions', async () => {
    const r = await runCli(['build', '--push', EU, '--push', US, '--endpoint', 'http://127.0.0.1:9'], { cwd: dir, env: env() });
    expect(r.stderr).toContain('error[cli.ecr-flags]: --endpoint names one ECR API endpoint, but the ECR destinations are in 2 regions (eu-west-1: 123456789012.dkr.ecr.eu-west-1.amazonaws.com; us-east-1: 123456789012.dkr.ecr.us-east-1.amazonaws.com)');
    expect(r.stderr).toContain('hint: push each region in its own run, with its own --endpoint (gamelayer push HOST/REPO:TAG for the others), or drop --endpoint');
    expect(r.stderr).not.toMatch(/^build /m);
    const viaEnv = await runCli(['push', `${EU}:v1`, `${US}:v1`], { cwd: dir, env: { ...env(), GAMELAYER_ECR_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(viaEnv.stderr).toContain('error[cli.ecr-flags]: GAMELAYER_ECR_ENDPOINT names one ECR API endpoint, but the ECR destinations are in 2 regions');
  });

  it('--ecr for one destination, then a plain push of the same build: each registry gets what it should', async () => {
    const repo = `${ecr.host}/studio/solo`;
    const built = await runCli(['build', '--tag', 'v2', '--push', repo, '--ecr', '--endpoint', ecr.endpoint, '--create-repo'], { cwd: dir, env: env() });
    expect(built.code, built.stderr).toBe(0);
    const pushed = await runCli(['push', `${plain.host}/studio/solo:v2`], { cwd: dir, env: env() });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await storedRepositories(plain.storageDir)).toContain('studio/solo');
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v2.json'), 'utf8')) as { pushed: { repository: string; region?: string }[] };
    expect(record.pushed.map((p) => [p.repository, p.region])).toEqual([
      [repo, 'eu-west-1'],
      [`${plain.host}/studio/solo`, undefined],
    ]);
  });
});
