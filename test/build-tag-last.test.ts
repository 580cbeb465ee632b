// A build's record is records/build-<tag>.json, and records/build-last.json is the last build's pointer. The old
// code took `build --tag last`: its record was the pointer, the next build replaced it, and build `last` was left
// with images and no record (gc then kept its tags as unclaimed; `inspect last` found no build).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function game(version?: string): Promise<string> {
  const dir = await tempDir('gl-tag-last-');
  await writeTinyGame(dir, ['game: tag-last', ...(version ? [`version: ${version}`] : []), 'start: [/opt/local/engine/run]']);
  return dir;
}

describe('the tag "last" (the last build record\'s own name)', () => {
  it('build --tag last is refused before anything is built; a build under another tag is then the last one', async () => {
    const dir = await game();
    const r = await runCli(['build', '--tag', 'last'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[build.bad-tag]: --tag "last": the name of the last build\'s record (records/build-last.json)');
    expect(existsSync(path.join(dir, '.gamelayer', 'records', 'build-last.json'))).toBe(false);
    const ok = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, '.gamelayer', 'records', 'build-last.json'), 'utf8')).tags).toContain('v1');
  });

  it('version: last in gamelayer.yaml is refused at its line', async () => {
    const dir = await game('last');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:2:10: version: "last" names the last build's record`);
  });
});
