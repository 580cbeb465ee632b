// A build killed while it replaced a file of the state folder's cache (`cache/layers.json`) leaves its temp file
// there; the next build sweeps it even when it has nothing new to write into cache/ (a no-op), as the store sweeps
// its own temp folder when it opens. (Found by reliability-kill's "after the last layer" point under load: the
// killed run had written every layer's row, the rebuild wrote none, and its temp file stayed.)
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempTag } from '../src/util/temp-files.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** A temp tag of a process of this host that is not running (pid 4194305 is above Linux's largest pid). */
const deadTag = () => tempTag().replace(/^\d+-/, '4194305-');

it('a no-op build removes a dead run\'s temp file from cache/ and keeps a live one\'s', async () => {
  const project = path.join(await tempDir(), 'game');
  copySample(project);
  const first = await runCli(['build'], { cwd: project });
  expect(first.code, first.stderr).toBe(0);
  const cache = path.join(project, '.gamelayer/cache');
  const dead = path.join(cache, `layers.json.${deadTag()}.tmp`);
  const live = path.join(cache, `layers.json.${tempTag()}.tmp`); // this test's own pid: running
  await writeFile(dead, '{"torn":');
  await writeFile(live, '{"torn":');
  const again = await runCli(['build'], { cwd: project });
  expect(again.code, again.stderr).toBe(0);
  expect(existsSync(dead), (await readdir(cache)).join(' ')).toBe(false);
  expect(existsSync(live)).toBe(true);
});
