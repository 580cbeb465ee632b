// An init container restarted in the same pod (it failed or was killed: node pressure, OOM) copies into the emptyDir
// its first run filled. On busybox, `cp -R -P` refuses to replace the links it copied there before ("can't create
// '…': File exists"), so the copy failed on every restart and the pod never started: the plain copy and the
// chunked tree's assembling copy alike. `gamelayer run-local --keep` keeps the pod's containers and volumes;
// `docker start` of a copy container is that restart. Before the fix both copies exited 1; now they complete and
// the engine verifies every file again.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { CONTAINER_LABEL, GAME_LABEL } from '../src/runlocal/execute.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { copySample, sampleYamlOn, writeChunkablePak } from './support/sample.js';
import { useRunLocalGame } from './support/run-local-game.js';

const GAME = 'run-local-copy-restart-test';
const { docker, work } = useRunLocalGame(GAME, 'gl-run-local-restart-');

describe('a copy container restarted over its own earlier copy (real Docker engine, busybox base)', () => {
  it('the plain copy and the assembling copy complete again, links and all; the engine then verifies every file', async () => {
    const dir = path.join(work(), 'game');
    copySample(dir);
    const baseRef = await writeBusyboxLayout(path.join(work(), 'busybox-layout'));
    // A 2 MiB pak to chunk (listed in the engine's checksums), and a link in the chunked tree; app has one already.
    await writeChunkablePak(dir);
    await symlink('gamedata.pak', path.join(dir, 'app-media/latest.pak'));
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(
      yaml,
      sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef).replace(
        '    source: ./app-media',
        '    source: ./app-media\n    chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}',
      ),
    );
    const built = await runCli(['build'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const run = await runCli(['run-local', '--keep', '--network', 'none'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('[engine] sample-game: all four trees verified under /opt/local; server ready');

    const kept = await docker.listContainers({ all: true, filters: { label: [`${GAME_LABEL}=${GAME}`] } });
    const id = (name: string) => kept.find((c) => c.Labels[CONTAINER_LABEL] === name)!.Id;
    // The restart: the same container, so the same volumes, already holding the first copy.
    const again = (name: string) => spawnSync('docker', ['start', '-a', id(name)], { encoding: 'utf8' });
    const app = again('copy-app');
    expect(app.stderr).toBe('');
    expect(app.status).toBe(0);
    expect(app.stdout).toContain('gamelayer: app: copied to /mnt/app');
    const media = again('copy-app-media');
    expect(media.stderr).toBe('');
    expect(media.status).toBe(0);
    expect(media.stdout).toContain('gamelayer: app-media: copied to /mnt/app-media, big files assembled from their chunks');
    const engine = again('engine');
    expect(engine.status, engine.stderr).toBe(0);
    expect(engine.stdout).toContain('sample-game: all four trees verified under /opt/local; server ready');
    // The links are links still, to what they named.
    const links = execFileSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', '-v', `${volumeOf(kept, 'copy-app-media')}:/v`, imageOf(kept, 'copy-app-media'), '-c', 'readlink /v/latest.pak'], { encoding: 'utf8' });
    expect(links.trim()).toBe('gamedata.pak');
  }, 300_000);
});

function volumeOf(kept: Docker.ContainerInfo[], name: string): string {
  const c = kept.find((k) => k.Labels[CONTAINER_LABEL] === name)!;
  return c.Mounts.find((m) => m.Destination === '/mnt/app-media')!.Name!;
}

function imageOf(kept: Docker.ContainerInfo[], name: string): string {
  return kept.find((k) => k.Labels[CONTAINER_LABEL] === name)!.ImageID;
}
