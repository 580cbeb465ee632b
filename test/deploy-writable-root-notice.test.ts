// The engine's root file system stays writable unless gamelayer.yaml asks (docs/deploy.md, "Secure defaults"): while
// it has not chosen, `k8s` and `ecs` suggest the read-only root in one line; a choice either way silences it. And an
// ECS task on Fargate says how its start guard sets no-new-privileges (Fargate refuses the field), one on EC2 does not.
import { appendFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeFixtureGame } from './k8s-fixture.js';

const NOTICE =
  "note: the engine's root file system is writable: set deploy.readOnlyRootFilesystem: true in gamelayer.yaml to make it " +
  'read-only (deploy.writablePaths, default [/tmp], stay writable), or false to keep it writable without this note\n';
const FARGATE = 'note: Fargate refuses dockerSecurityOptions, so the start guard sets no-new-privileges';

let dir: string;
let configFile: string;
const cli = (...args: string[]) => runCli(args, { cwd: dir });
const lines = (stderr: string, start: string) => stderr.split('\n').filter((l) => l.startsWith(start));

beforeEach(async () => {
  dir = await tempDir('gl-root-notice-');
  configFile = writeFixtureGame(dir).file;
});

describe('k8s and ecs: the writable root, said until gamelayer.yaml chooses', () => {
  it('no deploy.readOnlyRootFilesystem: one line on stderr suggesting it, for each kind and for ecs; the spec unchanged', async () => {
    for (const kind of ['pod', 'deployment', 'gameserver', 'fleet']) {
      const r = await cli('k8s', '--kind', kind);
      expect([kind, r.code]).toEqual([kind, 0]);
      expect(r.stderr.split(NOTICE).length - 1).toBe(1);
      // Said to the person, not written into the spec.
      expect(r.stdout).not.toContain('root file system is writable');
    }
    const e = await cli('ecs');
    expect(e.code).toBe(0);
    expect(e.stderr.split(NOTICE).length - 1).toBe(1);
    expect(e.stdout).not.toContain('root file system is writable');
    // --quiet and --json keep stderr to warnings and errors.
    for (const r of [await cli('k8s', '--quiet'), await cli('ecs', '--json')]) expect([r.code, r.stderr]).toEqual([0, expect.not.stringContaining(NOTICE)]);
  });

  it('readOnlyRootFilesystem: false or true is a choice: no line', async () => {
    for (const choice of ['false', 'true']) {
      writeFixtureGame(dir); // gamelayer.yaml written anew
      appendFileSync(configFile, `deploy:\n  readOnlyRootFilesystem: ${choice}\n`);
      const k = await cli('k8s', '--kind', 'deployment'); // the server image: the engine is its one container
      expect([choice, k.code, k.stderr]).toEqual([choice, 0, expect.not.stringContaining('root file system is writable')]);
      expect(k.stdout.includes('readOnlyRootFilesystem: true')).toBe(choice === 'true');
      const e = await cli('ecs');
      expect([choice, e.code, e.stderr]).toEqual([choice, 0, expect.not.stringContaining('root file system is writable')]);
    }
  });

  it('ecs on Fargate says its start guard sets no-new-privileges; on EC2, which sets it in the task, nothing', async () => {
    const fargate = await cli('ecs');
    expect(lines(fargate.stderr, FARGATE)).toHaveLength(1);
    expect(fargate.stdout).not.toContain('dockerSecurityOptions');
    const ec2 = await cli('ecs', '--launch-type', 'ec2');
    expect(ec2.code).toBe(0);
    expect(lines(ec2.stderr, FARGATE)).toEqual([]);
    expect(ec2.stdout).toContain('"no-new-privileges"');
  });
});
