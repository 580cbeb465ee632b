// `k8s --fill --in-place` rewrites the manifest where it is, as it was. The old code wrote a new file at the path
// given: a symlinked manifest became a regular file (the shared one it pointed at kept the old images), and a
// 0600 manifest (a Secret beside the Deployment) came back 0644, readable by every user of the host.
import { chmod, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useBuiltTinyGame } from './support/tiny-game.js';

const PINNED = /^image: localhost:5000\/in-place@sha256:[a-f0-9]{64}\n$/;
const game = useBuiltTinyGame('gl-in-place-', ['game: in-place', 'start: [/opt/local/engine/run]', 'registry: localhost:5000/in-place']);

describe('k8s --fill --in-place', () => {
  it('through a symlink: the file it points at is filled, the link stays a link', async () => {
    await mkdir(path.join(game.dir, 'base'));
    await writeFile(path.join(game.dir, 'base', 'server.yaml'), 'image: gamelayer://server\n');
    await mkdir(path.join(game.dir, 'overlay'));
    await symlink('../base/server.yaml', path.join(game.dir, 'overlay', 'server.yaml'));
    const r = await runCli(['k8s', '--fill', 'overlay/server.yaml', '--in-place', '--local'], { cwd: game.dir });
    expect(r.code, r.stderr).toBe(0);
    expect((await lstat(path.join(game.dir, 'overlay', 'server.yaml'))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(game.dir, 'overlay', 'server.yaml'))).toBe('../base/server.yaml');
    expect(await readFile(path.join(game.dir, 'base', 'server.yaml'), 'utf8')).toMatch(PINNED);
  });

  it('a 0600 manifest stays 0600', async () => {
    const file = path.join(game.dir, 'secret-and-pod.yaml');
    await writeFile(file, 'image: gamelayer://server\n');
    await chmod(file, 0o600);
    const r = await runCli(['k8s', '--fill', 'secret-and-pod.yaml', '--in-place', '--local'], { cwd: game.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(PINNED);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
