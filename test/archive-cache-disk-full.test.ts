// A full disk under the state folder while a build copies an engine tarball's members into its content cache
// (.gamelayer/cache/archive-content): the build fails with state.disk-full naming that folder. It used to exit 0
// having printed nothing (the tar extractor closed without an error, so the build waited on nothing) or, with a
// little more room, fail as an internal error.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { listFilesUnder } from './support/verify-state.js';

let root: string;
let mnt: string;
let mounted = false;

/** Fills the file system of `dir` until only about `leaveBytes` are free. */
async function fillUpTo(dir: string, leaveBytes: number): Promise<void> {
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  await writeFile(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, free - leaveBytes)));
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-archive-full-'));
  mnt = path.join(root, 'small-fs');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  mounted = true;
});
afterAll(async () => {
  if (mounted) execFileSync('umount', [mnt]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('disk full while caching an engine tarball member', () => {
  // 64 KiB free: the archive's entry list fits, the 768 KiB member does not; 4 KiB free: the first write of the
  // member already fails. Both used to leave the build without an answer.
  for (const leave of [64 << 10, 4 << 10]) {
    it(`fails with state.disk-full naming the cache folder (${leave >> 10} KiB free)`, async () => {
      const project = path.join(mnt, `game-${leave}`);
      const engineDir = path.join(root, `engine-${leave}`);
      await mkdir(path.join(engineDir), { recursive: true });
      await writeFile(path.join(engineDir, 'server.bin'), randomBytes(768 << 10), { mode: 0o755 }); // the start program: executable
      await writeFile(path.join(engineDir, 'start.sh'), '#!/bin/sh\nexec ./server.bin\n', { mode: 0o755 });
      for (const tree of ['engine-media', 'app', 'app-media']) await mkdir(path.join(project, tree), { recursive: true });
      execFileSync('tar', ['-czf', path.join(project, 'engine.tar.gz'), '-C', engineDir, '.']);
      const store = path.join(root, `store-${leave}`);
      await writeFile(
        path.join(project, 'gamelayer.yaml'),
        `game: full-game\nstart: /opt/local/engine/server.bin\nstore: ${store}\ntrees:\n  engine: {source: engine.tar.gz}\n` +
          '  engine-media: {source: engine-media}\n  app: {source: app}\n  app-media: {source: app-media}\n',
      );
      await fillUpTo(mnt, leave);
      try {
        const r = await runCli(['build'], { cwd: project });
        const cache = path.join(project, '.gamelayer/cache');
        expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toMatch(
          new RegExp(`^error\\[state\\.disk-full\\]: ${cache}/(archive-content|archive): no space left on the device while writing .*\\(ENOSPC\\)\\n` +
            "hint: free space on that file system \\(gamelayer's state folder \\.gamelayer/ is beside gamelayer\\.yaml\\); nothing half-written was kept\\n$",
          ),
        );
        expect(r.code).toBe(1);
        // No member copy is left half-written in the content cache.
        expect((await readdir(path.join(cache, 'archive-content')).catch(() => [])).filter((f) => f.startsWith('.'))).toEqual([]);
        // Nor an empty temp file of a verified-blob marker whose write failed.
        expect((await listFilesUnder(path.join(cache, 'verified-blobs'))).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
      } finally {
        await rm(path.join(mnt, 'filler'), { force: true });
        await rm(project, { recursive: true, force: true });
      }
    });
  }
});

describe('disk full under gamelayer init', () => {
  it('init.disk-full naming the folder, and no temp file left (was error[internal]: ENOSPC and an empty .gamelayer.yaml.<pid>.tmp)', async () => {
    const dir = path.join(mnt, 'init-game');
    await mkdir(path.join(dir, 'app'), { recursive: true });
    await fillUpTo(mnt, 0);
    try {
      const r = await runCli(['init', dir]);
      expect(r.stderr).toBe(
        `error[init.disk-full]: ${dir}: no space left on the device while writing gamelayer.yaml (ENOSPC)\n` +
          'hint: free space on that file system and run gamelayer init again; gamelayer.yaml was not written\n',
      );
      expect(r.code).toBe(1);
      expect((await readdir(dir)).filter((f) => f.includes('gamelayer.yaml'))).toEqual([]);
      // The empty trees' folder it made is gone again: the build folder is as it was.
      expect(await readdir(dir)).toEqual(['app']);
    } finally {
      await rm(path.join(mnt, 'filler'), { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('disk full under an output folder no step names', () => {
  it('dockerfile --out: disk.full with what to do (was error[internal]: ENOSPC, "a bug in gamelayer")', async () => {
    const project = path.join(root, 'df-game');
    for (const tree of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(project, tree), { recursive: true });
    // A stand-in binary: a `#!` start script on scratch would draw the start warning (stop 41) beside the error.
    await writeFile(path.join(project, 'engine/server'), Buffer.from('\x7fELF stand-in'), { mode: 0o755 });
    await writeFile(
      path.join(project, 'gamelayer.yaml'),
      'game: full-game\nstart: /opt/local/engine/server\ntrees:\n  engine: {source: engine}\n  engine-media: {source: engine-media}\n  app: {source: app}\n  app-media: {source: app-media}\n',
    );
    await fillUpTo(mnt, 0);
    try {
      const r = await runCli(['dockerfile', '--out', path.join(mnt, 'dockerfiles')], { cwd: project });
      expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toBe(
        'error[disk.full]: no space left on the device (ENOSPC)\n' +
          'hint: free space on the file system gamelayer was writing to (the output folder, the store, or .gamelayer/ beside gamelayer.yaml) and run again\n',
      );
      expect(r.code).toBe(1);
    } finally {
      await rm(path.join(mnt, 'filler'), { force: true });
      await rm(path.join(mnt, 'dockerfiles'), { recursive: true, force: true });
    }
  });
});
