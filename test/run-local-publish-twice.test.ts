// `run-local -p 7777 -p 7778`: -p publishes the engine's one game port, and the old code took the last value without
// a word (docker run users expect both published). A second -p is refused as a flag error, before any work.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];

describe('run-local -p given twice', () => {
  it('is refused, naming both values; the help says once', async () => {
    const dir = await tempDir('gl-publish-twice-');
    for (const t of TREES) await mkdir(path.join(dir, t));
    await writeFile(path.join(dir, 'gamelayer.yaml'), ['game: publish-twice', 'start: [/opt/local/engine/run]', 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'));
    const r = await runCli(['run-local', '-p', '7777', '--publish', '7778'], { cwd: dir });
    expect(r.stderr).toBe(
      "error[run.option]: --publish given 2 times (7777, 7778): it publishes the engine's one game port on 127.0.0.1:PORT\n" +
        'hint: give -p once; to reach the server on another host port too, forward it (socat, or docker run -p of your own)\n',
    );
    expect(r.code).toBe(2);
    const help = await runCli(['run-local', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('publish the engine\'s game port on 127.0.0.1:PORT (once: the engine has one game port) --network');
  });
});
