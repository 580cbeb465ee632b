// `registry: host/game:v1` (a tag written in the config's registry). push and the buildspec dropped the tag, but
// the old code handed it as it was to k8s, ecs, imagedefinitions, load and run-local, which refused it as "expected
// host/path without tag or digest" with a hint to set registry, far from the config line. It is the repository.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useBuiltTinyGame } from './support/tiny-game.js';

const game = useBuiltTinyGame('gl-registry-tag-', ['game: reg-tag', 'start: [/opt/local/engine/run]', 'registry: localhost:5000/studio/reg-tag:v1']);

describe('a registry written with a tag', () => {
  it('k8s, ecs and imagedefinitions pin the images in that repository', async () => {
    const k8s = await runCli(['k8s', '--local'], { cwd: game.dir });
    expect(k8s.code, k8s.stderr).toBe(0);
    expect(k8s.stdout).toMatch(/image: localhost:5000\/studio\/reg-tag@sha256:[a-f0-9]{64}/);
    const ecs = await runCli(['ecs', '--local'], { cwd: game.dir });
    expect(ecs.code, ecs.stderr).toBe(0);
    expect(ecs.stdout).toMatch(/"image": "localhost:5000\/studio\/reg-tag:latest-engine@sha256:[a-f0-9]{64}"/);
    const defs = await runCli(['codebuild', 'imagedefinitions', '--local'], { cwd: game.dir });
    expect(defs.code, defs.stderr).toBe(0);
    expect(defs.stdout).toContain('"imageUri": "localhost:5000/studio/reg-tag:latest-engine@sha256:');
  });
});
