// `platforms: [linux/amd64, linux/amd64]` was accepted: a build made a server index listing the one manifest twice,
// and `codebuild buildspec --batch` failed with error[internal] (two jobs named build_linux_amd64). It is now refused
// at load, at the second entry's line.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('platforms: a platform listed twice', () => {
  it.each([['scan'], ['codebuild', 'buildspec', '--batch']])('gamelayer %s refuses it as config.invalid', async (...args) => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'engine'));
    await writeFile(path.join(dir, 'engine', 'e'), 'e\n');
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      'game: g\nbaseImage: scratch\nstart: ["/x"]\nplatforms:\n  - linux/amd64\n  - linux/arm64\n  - linux/amd64\ntrees:\n  engine: {source: engine}\n  engine-media: {source: engine}\n  app: {source: engine}\n  app-media: {source: engine}\n',
    );
    const r = await runCli(args, { cwd: dir });
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toContain('error[config.invalid]: ');
    expect(r.stderr).toContain('gamelayer.yaml:7:5: platforms.2: linux/amd64 is listed twice (also entry 0)');
    expect(r.stderr).not.toContain('internal');
  });
});
