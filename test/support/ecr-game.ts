// A game folder and a fake ECR for a test file, with the environment the CLI needs to reach it (the fake's
// credentials, no instance metadata, no profile): the hooks several ECR test files wrote out each.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { runCli, type CliResult } from './cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './fake-ecr.js';
import { writeGame } from './trees.js';

export interface EcrGame {
  /** The temporary folder (HOME; with `game: true` also the game's folder). */
  readonly dir: string;
  readonly ecr: FakeEcr;
  env(): Record<string, string | undefined>;
  /** `build -t TAG --push ECR/REPO --ecr --endpoint … --region eu-west-1 FLAGS…` in `cwd` (default `dir`). */
  buildPush(repo: string, tag: string, flags?: string[], cwd?: string): Promise<CliResult>;
}

export function useEcrGame(prefix: string, opts: { game?: boolean } = { game: true }): EcrGame {
  let dir: string | undefined;
  let ecr: FakeEcr | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    if (opts.game) await writeGame(dir);
    ecr = await startFakeEcr();
  });
  afterAll(async () => {
    await ecr?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const started = () => {
    if (!dir || !ecr) throw new Error('the fake ECR is used before beforeAll started it');
    return { dir, ecr };
  };
  const game: EcrGame = {
    get dir() {
      return started().dir;
    },
    get ecr() {
      return started().ecr;
    },
    env: () => ({
      HOME: started().dir,
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PROFILE: undefined,
    }),
    buildPush: (repo, tag, flags = [], cwd) => {
      const { dir: d, ecr: e } = started();
      return runCli(['build', '-t', tag, '--push', `${e.host}/${repo}`, '--ecr', '--endpoint', e.endpoint, '--region', 'eu-west-1', ...flags], { cwd: cwd ?? d, env: game.env() });
    },
  };
  return game;
}
