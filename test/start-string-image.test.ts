// `start: "/opt/local/engine/start.sh --port 7777"`: one string with blanks. k8s, ECS and run-local run it through
// sh (Docker's shell form); the old code made the image's entrypoint, and the emitted Dockerfile's ENTRYPOINT, that
// whole string as one program name, so `gamelayer load` then `docker run` of the server image failed with
// "exec /opt/local/engine/start.sh --port 7777: no such file or directory". Run here on the real Docker engine.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { copySample, SAMPLE_START_LINE } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'start-string-test';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-start-string-');
  copySample(dir); // tar keeps the sample's relative symlinks relative
  const base = await writeBusyboxLayout(path.join(dir, 'busybox-layout'));
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(
    yaml,
    (await readFile(yaml, 'utf8'))
      .replace('game: sample-game', `game: ${GAME}`)
      .replace('baseImage: scratch', `baseImage: ${base}`)
      .replace(SAMPLE_START_LINE, 'start: "/opt/local/engine/start.sh --port 7777"'),
  );
  const r = await runCli(['build', '--tag', 't1'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  const tags = ['t1', 't1-engine', 't1-engine-media', 't1-app', 't1-app-media'].map((t) => `${GAME}:${t}`);
  removeImagesAfterRun(tags);
});

describe('a start command written as one string with blanks', () => {
  it('the server image runs it through sh: docker run of the loaded image starts the sample server', async () => {
    const load = await runCli(['load', '--tag', 't1'], { cwd: dir });
    expect(load.code, load.stderr).toBe(0);
    const run = spawnSync('docker', ['run', '--rm', `${GAME}:t1`], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('all four trees verified under /opt/local; server ready');
    expect(run.status).toBe(0);
  });

  it('the emitted Dockerfile says the same', async () => {
    const r = await runCli(['dockerfile', '--out', 'df'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'df', 'Dockerfile'), 'utf8')).toContain('ENTRYPOINT ["sh", "-c", "/opt/local/engine/start.sh --port 7777"]');
  });
});
