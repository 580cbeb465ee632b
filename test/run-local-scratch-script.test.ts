// The sample game on its scratch base, started by its start.sh run with `run-local --volumes none`:
// Docker's only words are "exec /opt/local/engine/start.sh: no such file or directory", of a file that is in the
// image (its interpreter, /bin/sh, is not). The old hint said only where the output was; now it says what that
// message means on scratch. Against the real Docker engine.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample, SAMPLE_SCRIPT_START_LINE, SAMPLE_START_LINE } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'run-local-scratch-test';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-scratch-script-');
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  // The sample's start.sh as the start, on its scratch base (it ships starting its launcher for this reason).
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`).replace(SAMPLE_START_LINE, SAMPLE_SCRIPT_START_LINE));
  const r = await runCli(['build', '--tag', 's1'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  removeImagesAfterRun(['s1', 's1-engine', 's1-engine-media', 's1-app', 's1-app-media'].map((t) => `${GAME}:${t}`));
});

describe('run-local of a script start on a scratch base', () => {
  it('the engine fails as Docker says, and the hint explains it', async () => {
    const r = await runCli(['run-local', '--volumes', 'none'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('exec /opt/local/engine/start.sh: no such file or directory');
    expect(r.stderr).toContain('baseImage is scratch: "exec …: no such file or directory" there means the start command is a script whose interpreter (#!/bin/sh) no layer holds');
  });
});
