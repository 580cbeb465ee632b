// `run-local --network NAME` with a network the Docker daemon does not have. The old code created and ran every
// copy container first and failed only at the engine's (docker.daemon, HTTP 404 "network … not found"); now the
// name is checked before anything is created, as a flag value (exit 2). Against the real Docker engine.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'run-local-network-test';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-run-net-');
  await writeTinyGame(dir, [`game: ${GAME}`, 'start: [/opt/local/engine/run]']);
  const r = await runCli(['build', '--tag', 'n1'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  removeImagesAfterRun(['n1', 'n1-engine', 'n1-engine-media', 'n1-app', 'n1-app-media'].map((t) => `${GAME}:${t}`));
});

describe('run-local --network with a network the daemon lacks', () => {
  for (const network of ['gl-no-such-network', 'two words']) {
    it(`"${network}": run.option before any container, none left behind`, async () => {
      const r = await runCli(['run-local', '--volumes', 'none', '--network', network], { cwd: dir });
      expect(r.stderr).toContain(`error[run.option]: --network ${network}: the Docker daemon has no such network`);
      expect(r.code).toBe(2);
      const left = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.gamelayer.game=${GAME}`], { encoding: 'utf8' });
      expect(left.stdout.trim()).toBe('');
    });
  }
});
