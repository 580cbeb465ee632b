// `diff FILE` or `--record FILE` (k8s, ecs, codebuild imagedefinitions, run-local) of a file that is not a record (the
// config, say) said "not valid JSON (truncated or corrupt record)" with the hint "delete it and scan or build again":
// a user following it deleted gamelayer.yaml. The hint now says what was expected, and keeps "delete it" for a damaged
// record only. (k8s --record FILE without a registry said "registry: not set" instead of naming the file.)
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { SAMPLE } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('diff of a file that is not a record', () => {
  it('names what diff takes instead of telling the user to delete the file', async () => {
    const dir = await tempDir();
    const config = path.join(dir, 'gamelayer.yaml');
    await copyFile(path.join(SAMPLE, 'gamelayer.yaml'), config);
    const r = await runCli(['diff', 'gamelayer.yaml', 'gamelayer.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[record.corrupt]: gamelayer.yaml: not valid JSON');
    expect(r.stderr).toContain('hint: diff takes record files (.gamelayer/records/*.json: scan-last.json, build-<tag>.json) or directories; if gamelayer.yaml is a damaged record, delete it');
    expect(r.stderr).not.toMatch(/^hint: delete it/m);
    expect(await readFile(config, 'utf8')).toContain('game: sample-game');
  });

  it.each([
    ['k8s', ['k8s', '--record', 'gamelayer.yaml', '--repository', '127.0.0.1:9/studio/game']],
    ['k8s without a repository', ['k8s', '--record', 'gamelayer.yaml']],
    ['ecs', ['ecs', '--record', 'gamelayer.yaml', '--repository', '127.0.0.1:9/studio/game']],
    ['codebuild imagedefinitions', ['codebuild', 'imagedefinitions', '--record', 'gamelayer.yaml', '--repository', '127.0.0.1:9/studio/game']],
    ['run-local', ['run-local', '--record', 'gamelayer.yaml']],
  ])('%s --record of the config names what --record takes', async (_name, args) => {
    const dir = await tempDir();
    const config = path.join(dir, 'gamelayer.yaml');
    await copyFile(path.join(SAMPLE, 'gamelayer.yaml'), config);
    const r = await runCli(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[record.corrupt]: ${config}: not valid JSON`);
    expect(r.stderr).toContain('hint: --record takes a build record (.gamelayer/records/build-<tag>.json)');
    expect(r.stderr).not.toMatch(/^hint: delete it/m);
  });
});
