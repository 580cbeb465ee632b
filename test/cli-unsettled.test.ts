// A command whose work can never finish (here: the config read never answers, as a stream that closed without an
// error once left a build) must not end with status 0 and no output: the CLI reports it as an internal error.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { GAME_YAML } from './support/trees.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-unsettled-'));
  await writeFile(path.join(root, 'gamelayer.yaml'), GAME_YAML);
  // Preloaded into the CLI: every fs/promises readFile and open returns a promise that never settles and holds nothing
  // open (the config is read through open since stop 42, as a regular file of bounded size).
  await writeFile(path.join(root, 'never.cjs'), "const fsp = require('node:fs/promises');\nfsp.readFile = () => new Promise(() => {});\nfsp.open = () => new Promise(() => {});\n");
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a command that can never finish', () => {
  it('exits 1 with error[internal] instead of 0 and nothing', async () => {
    const r = await runCli(['scan'], { cwd: root, env: { NODE_OPTIONS: `--require ${path.join(root, 'never.cjs')}` } });
    expect(r.stderr).toBe(
      'error[internal]: gamelayer stopped before the command finished: it was waiting for an operation that can no longer complete\n' +
        'hint: this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack\n',
    );
    expect(r.code).toBe(1);
  });

  it('says so in JSON too under --json', async () => {
    const r = await runCli(['scan', '--json'], { cwd: root, env: { NODE_OPTIONS: `--require ${path.join(root, 'never.cjs')}` } });
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'internal',
        message: 'gamelayer stopped before the command finished: it was waiting for an operation that can no longer complete',
        hint: 'this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack',
      },
    });
    expect(r.code).toBe(1);
  });
});
