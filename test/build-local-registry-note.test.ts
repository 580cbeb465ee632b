// A new clone whose gamelayer.yaml names a registry, built without --push: the registry's builds are not read, so the
// build is laid out afresh and a later `gamelayer push TAG` sends whole trees where build --push would have sent the
// change. It said only "previous build: none (no earlier build in .gamelayer/)"; it now says why and what plans on
// the registry's build. Nothing is asked of the registry (port 9: nothing listens).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-local-note-');
  await writeGame(dir);
  const file = path.join(dir, 'gamelayer.yaml');
  await writeFile(file, `${await readFile(file, 'utf8')}registry: 127.0.0.1:9/studio/game\n`);
});

describe('a local build on a host with no build, the config naming a registry', () => {
  it('notes that the registry was not read, once', async () => {
    const first = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(
      'note: 127.0.0.1:9/studio/game (registry in gamelayer.yaml) was not read: without --push a build plans on .gamelayer/ only; build --push (or --from 127.0.0.1:9/studio/game) plans on its newest build of the line, so a push sends only the change',
    );
    // The next local build plans on the first: nothing to say.
    const second = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('was not read');
  });
});
