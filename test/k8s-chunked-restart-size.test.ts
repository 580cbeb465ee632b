// A chunked tree's init copy restarted midway (the container restarted, its emptyDir kept) writes each big file again
// to a temporary beside the file its first run completed, then renames it over that one: at its peak the volume
// holds the largest big files twice. The emptyDir's sizeLimit was sized for the assembled tree alone (plus 10 %), so
// the restarted copy passed it and the kubelet evicted the pod. The limit now leaves room for that rewrite.
// The spec from the real CLI; the copy script run twice (first run, then the restart) by busybox sh in a temp folder,
// the volume's use measured (du) each time a file is about to be renamed into place.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyScript } from '../src/k8s/scripts.js';
import { writeChunkSources, writeChunkedTree } from './support/chunked-tree.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

describe('the sizeLimit of a chunked tree copied by an init container', () => {
  it('holds the copy restarted midway at its peak, a big file rewritten beside its first copy', async () => {
    const dir = await tempDir('gl-k8s-chunked-restart-');
    await writeChunkSources(dir, { a: 3 * MiB }, { 'small.txt': 'small\n' });
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      ['game: chunky', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
    );
    const build = await runCli(['build', '-t', 'v1'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);
    const k8s = await runCli(['k8s', '--local', '--repository', 'localhost:5000/game', '--volumes', 'init'], { cwd: dir });
    expect(k8s.code, k8s.stderr).toBe(0);
    const pod = parse(k8s.stdout) as { spec: { volumes: { name: string; emptyDir?: { sizeLimit?: string } }[] } };
    const limit = pod.spec.volumes.find((v) => v.name === 'tree-app-media')!.emptyDir!.sizeLimit!;
    expect(limit).toMatch(/^\d+Mi$/);
    const limitBytes = Number.parseInt(limit, 10) * MiB;

    // The tree as its image holds it (chunks and recipes), and the copy's volume.
    const image = path.join(dir, 'image-app-media');
    await writeChunkedTree(path.join(dir, 'app-media'), image, { minFileSize: MiB, chunkSize: 64 * 1024 });
    const volume = path.join(dir, 'volume');
    execFileSync('mkdir', [volume]);
    const log = path.join(dir, 'du.log');
    // mv as a function (before busybox's applet): the volume's use, in KiB, whenever a file is about to be renamed.
    const measured = `mv() { du -sk ${volume} | cut -f1 >> ${log}; command mv "$@"; }\n${copyScript('app-media', image, volume, { chunked: true, native: false })}`;
    const first = spawnSync('busybox', ['sh', '-c', measured], { encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    await writeFile(log, '');
    const restarted = spawnSync('busybox', ['sh', '-c', measured], { encoding: 'utf8' });
    expect(restarted.status, restarted.stderr).toBe(0);
    const peakKiB = Math.max(...(await readFile(log, 'utf8')).trim().split('\n').map(Number));
    // The restart held the 3 MiB file twice.
    expect(peakKiB * 1024).toBeGreaterThanOrEqual(6 * MiB);
    expect(peakKiB * 1024).toBeLessThanOrEqual(limitBytes);
  });
});
