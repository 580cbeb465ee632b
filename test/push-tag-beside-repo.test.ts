// `gamelayer push d1 HOST/REPO` (build --push's order: a tag, then a repository) was read as two destinations. Without
// `registry:` in gamelayer.yaml it said `push d1: no destination: … has no "registry"`, of a command that named one;
// with it, `every destination must name the same build tag … got d1, none`. Neither said the tag goes into the
// reference: the error now does, with the command to run. Refused before the store or any registry is read.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-push-order-');
  copySample(dir);
});

const REPO = '127.0.0.1:9/studio/game';

describe('push TAG REPO', () => {
  it.each([
    ['no registry in gamelayer.yaml', ''],
    ['a registry in gamelayer.yaml', 'registry: 127.0.0.1:9/studio/other\n'],
  ])('%s: the error says the tag goes into the reference, and how', async (_name, extra) => {
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^registry: .*\n/m, '') + extra);
    for (const args of [['d1', REPO], [REPO, 'd1']]) {
      const r = await runCli(['push', ...args], { cwd: dir });
      expect(r.stderr).toBe(
        `error[cli.push-targets]: push ${args.join(' ')}: d1 is a tag alone and ${REPO} a repository without one; a destination names its tag (HOST/REPO:TAG)\n` +
          `hint: push the build d1 with: gamelayer push ${REPO}:d1\n`,
      );
      expect(r.code).toBe(2);
    }
  });
});
