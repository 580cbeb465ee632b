// A file the user may not read, met by a cold build (its layer writer reads each file once, the scan only stats
// it): content.unreadable with the same hint the scan's scan.unreadable gives. It had no hint at all.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeGame } from './support/trees.js';

const NOBODY = { uid: 65534, gid: 65534 };
let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-unreadable-'));
  await chmod(root, 0o755);
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('cold build of a tree with an unreadable file', () => {
  it('content.unreadable names the file and says what to do', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    const file = path.join(dir, 'app/game.xml');
    await chmod(file, 0o000);
    const r = await runCli(['build'], { cwd: dir, asUser: NOBODY });
    expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toBe(
      `error[content.unreadable]: ${file}: cannot read: EACCES: permission denied, open '${file}'\n` +
        'hint: fix its permissions or exclude it in gamelayer.yaml\n',
    );
    expect(r.code).toBe(1);
  });
});

describe('an --out folder the user may not write', () => {
  it('state.unwritable names it with a hint about that folder, not about .gamelayer/ caches', async () => {
    const dir = path.join(root, 'out-game');
    await writeGame(dir);
    execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    const out = path.join(root, 'locked');
    await mkdir(out);
    await chmod(out, 0o555);
    const r = await runCli(['dockerfile', '--out', path.join(out, 'df')], { cwd: dir, asUser: NOBODY });
    expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toBe(
      `error[state.unwritable]: ${out}/df: cannot write (permission denied, EACCES)\n` +
        `hint: make ${out}/df writable for this user (or run as its owner), or write elsewhere (--out, --store)\n`,
    );
    expect(r.code).toBe(1);
  });
});
