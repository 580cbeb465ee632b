// `run-local --record HOST/REPO:TAG`, the way k8s, ecs and imagedefinitions take a pushed build: run-local loads its
// images from the local store, so the reference was read as a path and the error said "<cwd>/HOST/REPO:TAG: no such
// record" with a hint to check the path. Now it says run-local runs a build of this host, and what to do instead.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('run-local --record with a pushed build', () => {
  it('says run-local runs a build of this host, not that a path is missing', async () => {
    const dir = await tempDir('gl-run-local-ref-');
    await writeTinyGame(dir, ['game: refgame', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['run-local', '--record', '127.0.0.1:5000/refgame:v41'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[run.option]: --record 127.0.0.1:5000/refgame:v41: a pushed build; run-local runs a build of this host');
    expect(r.stderr).toContain('hint: pass a record file of a build made here (.gamelayer/records/build-<tag>.json)');
    expect(r.stderr).not.toContain('no such record');
  });

  it('a path without a registry host is still a path', async () => {
    const dir = await tempDir('gl-run-local-ref-');
    await writeTinyGame(dir, ['game: refgame', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['run-local', '--record', 'records/build-v41.json'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('no such record');
  });
});
