// Counts in CLI output agree with their number: "1 build", "1 layer", never "1 builds" or "1 layers".
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { count } from '../src/report/plural.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = path.join(await tempDir('gl-plurals-'), 'game');
  copySample(dir);
}, 60_000);

describe('counts in messages', () => {
  it('count() says one in the singular, other numbers in the plural', () => {
    expect([count(0, 'build'), count(1, 'build'), count(2, 'build'), count(1, 'entry', 'entries'), count(3, 'entry', 'entries')]).toEqual(['0 builds', '1 build', '2 builds', '1 entry', '3 entries']);
  });

  it('ls, a build of one changed layer and gc say "1 build", "1 layer"', async () => {
    const first = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const ls = await runCli(['ls'], { cwd: dir });
    expect(ls.stdout).toMatch(/^\d+ tags, 1 build in /m);

    await appendFile(path.join(dir, 'app/config/server.cfg'), '\n# changed\n');
    const second = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('build 1 layer + 1 tree marker');
    expect(second.stderr).toMatch(/^hash app: 1 file hashed, /m);

    const gc = await runCli(['gc', '--keep', '1'], { cwd: dir });
    expect(gc.code, gc.stderr).toBe(0);
    const out = gc.stdout + gc.stderr;
    expect(out).toContain('kept 1 build: v2');
    expect(out).toContain('would remove 1 build: v1');
    expect(out + second.stderr).not.toMatch(/\b1 (builds|layers|tags|blobs|images|files|entries|tree markers)\b/);
  }, 120_000);
});
