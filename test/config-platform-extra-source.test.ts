// A per-platform source for a platform `platforms` does not list (linux/arm64's engine added, the platform not).
// The old code dropped the entry without a word and built for linux/amd64 alone.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('trees.<tree>.source with a platform not in platforms', () => {
  it('is refused at that entry, naming the platform and the list', async () => {
    const dir = await tempDir('gl-extra-platform-');
    for (const t of ['engine-x64', 'engine-arm64', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, t));
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      [
        'game: extra',
        'start: [/opt/local/engine/run]',
        'platforms: [linux/amd64]',
        'trees:',
        '  engine:',
        '    source:',
        '      linux/amd64: engine-x64',
        '      linux/arm64: engine-arm64',
        '  engine-media: {source: engine-media}',
        '  app: {source: app}',
        '  app-media: {source: app-media}',
        '',
      ].join('\n'),
    );
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[config.platform-source]: ${path.join(dir, 'gamelayer.yaml')}:8:20: trees.engine.source: linux/arm64 is not in "platforms" (linux/amd64); its source would never be built\n` +
        'hint: add linux/arm64 to platforms, or remove its entry\n',
    );
  });
});
