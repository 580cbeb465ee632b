// A tree image holding setuid and setgid files (here from the base image's files under the tree's mount; a damaged
// or hostile image alike): the copy containers `gamelayer run-local` starts (the pod's init containers, run with
// `--uid 0` as ECS's copies always run) copied them onto the volume with busybox's `cp -R`, which as root keeps those
// bits: a setuid-root file on the volume the engine mounts. Now the copy clears them, and the run still completes.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTAINER_LABEL, GAME_LABEL } from '../src/runlocal/execute.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { copySample, sampleYamlOn } from './support/sample.js';
import { useRunLocalGame } from './support/run-local-game.js';

const GAME = 'run-local-setuid-test';
const { docker, work } = useRunLocalGame(GAME, 'gl-run-local-setuid-');

describe('run-local copies of a tree image holding setuid and setgid files (real Docker engine, busybox base)', () => {
  it('as root (--uid 0) the copies clear the bits on the volume; the engine still starts', async () => {
    const dir = path.join(work(), 'game');
    copySample(dir);
    const at = { mtime: new Date(0), uid: 0, gid: 0 };
    const baseRef = await writeBusyboxLayout(path.join(work(), 'busybox-layout'), {
      extraLayers: [
        [
          { ...at, name: 'opt/', type: 'directory', mode: 0o755 },
          { ...at, name: 'opt/local/', type: 'directory', mode: 0o755 },
          { ...at, name: 'opt/local/app/', type: 'directory', mode: 0o755 },
          { ...at, name: 'opt/local/app/suid-root', type: 'file', mode: 0o4755, size: 0 },
          { ...at, name: 'opt/local/app/sgid-dir/', type: 'directory', mode: 0o2755 },
          { ...at, name: 'opt/local/app/sgid-dir/both', type: 'file', mode: 0o6755, size: 0 },
        ],
      ],
    });
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef));
    const built = await runCli(['build'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const run = await runCli(['run-local', '--keep', '--network', 'none', '--uid', '0'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('gamelayer: app: copied to /mnt/app');
    expect(run.stdout).toContain('[engine] sample-game: all four trees verified under /opt/local; server ready');

    const kept = await docker.listContainers({ all: true, filters: { label: [`${GAME_LABEL}=${GAME}`] } });
    const copy = kept.find((c) => c.Labels[CONTAINER_LABEL] === 'copy-app')!;
    const volume = copy.Mounts.find((m) => m.Destination === '/mnt/app')!.Name!;
    // The tree image itself holds the bits (what the copy read), the volume does not.
    const modes = (mount: string, root: string) =>
      execFileSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', ...mount.split(' ').filter(Boolean), copy.ImageID, '-c', `cd ${root} && stat -c '%n %a' suid-root sgid-dir sgid-dir/both`], { encoding: 'utf8' }).trim().split('\n');
    expect(modes('', '/opt/local/app')).toEqual(['suid-root 4755', 'sgid-dir 2755', 'sgid-dir/both 6755']);
    expect(modes(`-v ${volume}:/v`, '/v')).toEqual(['suid-root 755', 'sgid-dir 755', 'sgid-dir/both 755']);
  }, 300_000);
});
