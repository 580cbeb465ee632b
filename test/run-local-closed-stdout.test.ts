// `gamelayer run-local | head -1`: once the reader of the logs went away, the CLI exited at once (status 141) and left
// the engine container (and, with --volumes init, its copy containers and volumes) in the daemon, though run-local
// "removes what it created (also on Ctrl-C)". It now stops the run as on Ctrl-C, removes everything, then exits 141.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LABEL } from '../src/runlocal/execute.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { CLI, runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const docker = new Docker();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-run-closed-');
  const base = await writeBusyboxLayout(path.join(dir, 'busybox-layout'));
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) {
    await mkdir(path.join(dir, t));
    await writeFile(path.join(dir, t, `${t}.txt`), `${t}\n`);
  }
  // Logs a line a second for a minute: still running when the reader goes away. It ends on the stop's SIGTERM, as an
  // engine does (PID 1 without a handler ignores it, and the stop would wait out its 10 s grace for the SIGKILL).
  await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\ntrap "exit 143" TERM\nfor i in $(seq 60); do echo "tick $i"; sleep 1; done\n', { mode: 0o755 });
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: run-closed', `baseImage: ${base}`, 'start: [/opt/local/engine/start.sh]', 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
  const built = await runCli(['build'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
}, 120_000);

// The images run-local loaded into the daemon go with the test.
afterAll(async () => {
  removeImagesAfterRun((await docker.listImages({ filters: { reference: ['run-closed:*'] } })).flatMap((img) => img.RepoTags ?? []));
});

/** run-local with its stdout closed by the reader as soon as the first log line came (as `| head -1` does). */
function runClosingStdout(volumes: string): Promise<{ code: number | null; stderr: string; runId?: string }> {
  const child = spawn(process.execPath, [CLI, 'run-local', '--volumes', volumes], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stderr, runId: /^run (\S+): containers and volumes labelled/m.exec(stderr)?.[1] }));
  });
}

async function leftovers(runId: string): Promise<string[]> {
  const label = [`${RUN_LABEL}=${runId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Names[0]}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

describe('run-local whose stdout reader goes away', () => {
  it.each([['none'], ['init']])('--volumes %s: removes its containers and volumes, then exits 141', async (volumes) => {
    const r = await runClosingStdout(volumes);
    expect(r.runId, r.stderr).toBeDefined();
    expect(r.code, r.stderr).toBe(141);
    expect(await leftovers(r.runId!)).toEqual([]);
  }, 120_000);
});
