// A tree source that stat calls a regular file but that refuses a read (/proc/self/mem answers EIO) stopped the
// build with `error[internal]: EIO`: it is a clear error naming the config field and the path.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('a tree source that cannot be read', () => {
  it('/proc/self/mem as a source: scan.source-unreadable naming trees.app-media.source and the path', async () => {
    const dir = await tempDir('gl-source-mem-');
    copySample(dir);
    const config = path.join(dir, 'gamelayer.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('source: ./app-media', 'source: /proc/self/mem'));
    const r = await runCli(['build', '--tag', 't'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('error[internal]');
    expect(r.stderr).toMatch(/error\[scan\.source-unreadable\]: .*trees\.app-media\.source: \/proc\/self\/mem cannot be read/);
  }, 120_000);
});
