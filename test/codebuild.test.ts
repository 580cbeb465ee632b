// Library parts of the CodeBuild integration: environment facts, durations, flags, backoff, links, failure
// summaries, retries, and imagedefinitions.json agreeing with the ECS task definition's containers.
import type { Build } from '@aws-sdk/client-codebuild';
import { describe, expect, it } from 'vitest';
import { backoffDelay, retrying } from '../src/codebuild/client.js';
import { buildFailure, failingPhase, logsUrl, parseEnvFlags } from '../src/codebuild/builds.js';
import { formatSeconds, parseDuration } from '../src/codebuild/duration.js';
import { codebuildEnvironment } from '../src/codebuild/environment.js';
import { imageDefinitions, imageDefinitionsJson } from '../src/codebuild/imagedefinitions.js';
import { ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { GamelayerError } from '../src/errors.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { fixtureConfig, fixtureRecord, REPOSITORY } from './k8s-fixture.js';

const SHA = '3f9a1c2be47d0e8812aa00ffee11223344556677';
const ARN = 'arn:aws:codebuild:eu-west-1:123456789012:build/game-ci:8f1c6b2e-0d2a-4c55-9a7e-3b1f2c4d5e6f';

describe('codebuildEnvironment', () => {
  it('is undefined outside CodeBuild', () => {
    expect(codebuildEnvironment({ CODEBUILD_RESOLVED_SOURCE_VERSION: SHA })).toBeUndefined();
    expect(codebuildEnvironment({})).toBeUndefined();
  });

  it('reads the build facts: tag = first 8 of the resolved source version, ARN; no image labels (none is put on an image)', () => {
    const env = codebuildEnvironment({
      CODEBUILD_BUILD_ID: 'game-ci:8f1c6b2e-0d2a-4c55-9a7e-3b1f2c4d5e6f',
      CODEBUILD_BUILD_ARN: ARN,
      CODEBUILD_BUILD_NUMBER: '42',
      CODEBUILD_RESOLVED_SOURCE_VERSION: SHA,
      CODEBUILD_SOURCE_VERSION: 'refs/heads/main',
      CODEBUILD_SOURCE_REPO_URL: 'https://git.example/studio/game.git',
      CODEBUILD_INITIATOR: 'codepipeline/game',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(env).toEqual({
      buildId: 'game-ci:8f1c6b2e-0d2a-4c55-9a7e-3b1f2c4d5e6f',
      buildArn: ARN,
      buildNumber: 42,
      resolvedSourceVersion: SHA,
      sourceVersion: 'refs/heads/main',
      sourceRepoUrl: 'https://git.example/studio/game.git',
      region: 'eu-west-1',
      initiator: 'codepipeline/game',
      defaultTag: '3f9a1c2b',
    });
    expect(Object.keys(env!)).not.toContain('labels');
  });

  it('falls back to build-<number> without a usable source version; ignores blank values', () => {
    const env = codebuildEnvironment({ CODEBUILD_BUILD_ID: 'p:1', CODEBUILD_BUILD_NUMBER: '7', CODEBUILD_RESOLVED_SOURCE_VERSION: '  ', AWS_REGION: 'us-east-1' });
    expect(env?.defaultTag).toBe('build-7');
    expect(env?.resolvedSourceVersion).toBeUndefined();
    expect(env?.region).toBe('us-east-1');
    // An S3 object version id may start with a character a tag cannot.
    expect(codebuildEnvironment({ CODEBUILD_BUILD_ID: 'p:1', CODEBUILD_RESOLVED_SOURCE_VERSION: '.Xy~z12345' })?.defaultTag).toBeUndefined();
    expect(codebuildEnvironment({ CODEBUILD_BUILD_ID: 'p:1', CODEBUILD_BUILD_NUMBER: 'x' })?.buildNumber).toBeUndefined();
  });
});

describe('durations and flags', () => {
  it('parses durations and refuses what is not one', () => {
    expect(parseDuration('--timeout', '90s')).toBe(90_000);
    expect(parseDuration('--timeout', '1h30m')).toBe(5_400_000);
    expect(parseDuration('--timeout', '500ms')).toBe(500);
    expect(parseDuration('--timeout', '2')).toBe(2000);
    expect(parseDuration('--timeout', '1.5m')).toBe(90_000);
    for (const bad of ['', 'soon', '10x', '5m trailing', '0s', '-5s', 'm']) {
      expect(() => parseDuration('--timeout', bad), bad).toThrow(GamelayerError);
    }
    expect(formatSeconds(7)).toBe('7s');
    expect(formatSeconds(77)).toBe('1m 17s');
    expect(formatSeconds(3725)).toBe('1h 02m');
  });

  it('parses --env NAME=VALUE, keeping = inside values; refuses bad names and CODEBUILD_ variables', () => {
    expect(parseEnvFlags(['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => parseEnvFlags(['=1'])).toThrow(/--env "=1": expected NAME=VALUE/);
    expect(() => parseEnvFlags(['1A=1'])).toThrow(/expected NAME=VALUE/);
    expect(() => parseEnvFlags(['CODEBUILD_BUILD_ID=x'])).toThrow(/reserved by CodeBuild/);
  });
});

describe('backoff and retries', () => {
  it('full-jitter backoff doubles up to the cap and stays within [cap/2, cap]', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, 250, 4000, () => 1))).toEqual([250, 500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3].map((a) => backoffDelay(a, 250, 4000, () => 0))).toEqual([125, 250, 500]);
  });

  it('retries throttling until success, reports each retry, and does not retry other errors', async () => {
    const throttle = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    let calls = 0;
    const seen: string[] = [];
    const value = await retrying(
      async () => {
        if (++calls <= 2) throw throttle;
        return 'ok';
      },
      { what: 'x', baseDelayMs: 1, maxDelayMs: 4, attempts: 5, transient: false, onRetry: (r) => seen.push(r.reason) },
    );
    expect(value).toBe('ok');
    expect(seen).toEqual(['throttled', 'throttled']);

    let denied = 0;
    const deny = Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    await expect(retrying(async () => { denied++; throw deny; }, { what: 'x', baseDelayMs: 1, maxDelayMs: 4, attempts: 5, transient: true })).rejects.toBe(deny);
    expect(denied).toBe(1);

    let fives = 0;
    const fault = Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    await expect(retrying(async () => { fives++; throw fault; }, { what: 'x', baseDelayMs: 1, maxDelayMs: 4, attempts: 3, transient: true })).rejects.toBe(fault);
    expect(fives).toBe(3);
    let once = 0;
    await expect(retrying(async () => { once++; throw fault; }, { what: 'x', baseDelayMs: 1, maxDelayMs: 4, attempts: 3, transient: false })).rejects.toBe(fault);
    expect(once).toBe(1);
  });
});

describe('build summaries', () => {
  const failed: Build = {
    id: 'game-ci:1',
    arn: 'arn:aws:codebuild:eu-west-1:123456789012:build/game-ci:1',
    buildStatus: 'FAILED',
    logs: { groupName: '/aws/codebuild/game-ci', streamName: 'abc/1' },
    phases: [
      { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED', contexts: [{ statusCode: '', message: '' }] },
      { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: x' }] },
      { phaseType: 'POST_BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'later' }] },
    ],
  };

  it('names the first failing phase and its contexts', () => {
    expect(failingPhase(failed)).toEqual({ phase: 'BUILD', status: 'FAILED', contexts: ['COMMAND_EXECUTION_ERROR: Error while executing command: x'] });
    const e = buildFailure(failed);
    expect(e.message).toBe('build game-ci:1 FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR: Error while executing command: x');
    expect(e.hint).toMatch(/^logs: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:log-groups\/log-group\/\$252Faws\$252Fcodebuild\$252Fgame-ci\/log-events\/abc\$252F1$/);
  });

  it('prefers CodeBuild\'s deep link; no link without logs', () => {
    expect(logsUrl({ ...failed, logs: { deepLink: 'https://example/deep' } })).toBe('https://example/deep');
    expect(logsUrl({ id: 'x' })).toBeUndefined();
  });
});

describe('imagedefinitions', () => {
  const config = fixtureConfig();
  const input = deployInputFrom(config, fixtureRecord(), REPOSITORY);

  it('names exactly the containers of the ECS task definition, each with the image it runs', () => {
    const defs = imageDefinitions(input);
    const containers = ecsTaskDefinition(input).taskDefinition.containerDefinitions!.map((c) => ({ name: c.name, imageUri: c.image }));
    expect(defs).toEqual(expect.arrayContaining(containers));
    expect(defs).toHaveLength(containers.length);
    for (const d of defs) expect(d.imageUri).toMatch(new RegExp(`^${REPOSITORY.replace(/\./g, '\\.')}:v1-[a-z-]+@sha256:[0-9a-f]{64}$`));
    expect(JSON.parse(imageDefinitionsJson(defs))).toEqual(defs);
  });

  it('--server-container: one container running the combined server image', () => {
    expect(imageDefinitions(input, { serverContainer: 'game' })).toEqual([{ name: 'game', imageUri: input.serverImage }]);
    expect(() => imageDefinitions({ ...input, serverImage: undefined }, { serverContainer: 'game' })).toThrow(/no server image/);
  });
});
