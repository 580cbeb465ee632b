// A dry-run gc beside a running build listed the build's new blobs and cache files as removable, with no word that
// a build was writing them (gc --apply waits for it). It now says the store is in use. The build is stood in for by
// a hold file naming a live process of this host, as a build writes it.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('gc dry run while the store is held', () => {
  it('says a build, push or load is using the store; says nothing once it is gone', async () => {
    const dir = await tempDir('gl-gc-held-');
    await writeTinyGame(dir, ['game: held', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    const quiet = await runCli(['gc'], { cwd: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toContain('using this store');

    const holder = spawn('sleep', ['600']);
    try {
      const holds = path.join(dir, '.gamelayer', 'oci', '.holds');
      await mkdir(holds, { recursive: true });
      await writeFile(path.join(holds, 'build.other'), `${holder.pid} ${hostname()}`);
      const r = await runCli(['gc'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('note: 1 build(s), push(es) or load(s) are using this store now');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
