// A tree mounted at / on ECS: every task copied the trees, and the copy of a tree at / cannot be delivered, so such a
// game had no working task (`k8s --volumes none` worked). `ecs --volumes none` (or deploy.volumes: none) now runs the
// server image, which holds every tree in place; the copy mode is refused naming the tree, its field and that option.
// The engine container it writes is run on the real Docker engine as ECS would run it.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { writeTinyGame } from './support/trees.js';
import { tempDir } from './support/tmp.js';

const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-rooted';
const LOADED = `gl-ecs-rooted-${process.pid}`;
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-ecs-volumes-');
  const base = await writeBusyboxLayout(path.join(dir, 'busybox-layout'));
  // Each tree's f.txt holds its name: the start command prints the four, the app's from /f.txt.
  const start = 'start: [sh, -c, "cat /f.txt /opt/local/engine/f.txt /opt/local/engine-media/f.txt /opt/local/app-media/f.txt; id -u; pwd"]';
  await writeTinyGame(path.join(dir, 'game'), ['game: ecs-rooted', `baseImage: ${base}`, start, `registry: ${REPO}`]);
  dir = path.join(dir, 'game');
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('app: {source: app}', 'app: {source: app, mount: /}'));
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  spawnSync('docker', ['rmi', '-f', `${LOADED}:latest`]);
});

const REFUSED =
  "error[deploy.tree-at-root]: tree app is mounted at / (trees.app.mount): it cannot be delivered as a volume of its own, which would be mounted over the engine's root file system\n" +
  'hint: run the server image, which holds every tree at its mount: --volumes none (deploy.volumes: none); or mount tree app at a folder of its own\n';

async function serverOnly(args: string[]): Promise<ContainerDefinition> {
  const r = await runCli(['ecs', '--local', '--json', ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { images: { container: string; reference: string }[]; taskDefinition: { volumes: unknown[]; containerDefinitions: ContainerDefinition[] } };
  expect(out.images.map((i) => i.container)).toEqual(['engine']);
  expect(out.images[0]!.reference).toMatch(new RegExp(`^${REPO}:latest@sha256:[0-9a-f]{64}$`));
  expect(out.taskDefinition.volumes).toEqual([]);
  return out.taskDefinition.containerDefinitions[0]!;
}

describe('ecs of a game with a tree mounted at /', () => {
  it('copy mode (the default) is refused naming the tree, its field and --volumes none; --volumes none runs the server image', async () => {
    const copied = await runCli(['ecs', '--local'], { cwd: dir });
    expect(copied.code).toBe(1);
    expect(copied.stderr).toBe(REFUSED);
    const engine = await serverOnly(['--volumes', 'none']);
    // The server image as ECS runs the container: its user, working directory, entry point, every capability dropped.
    const load = await runCli(['load', '--no-trees', '--image', LOADED], { cwd: dir });
    expect(load.code, load.stderr).toBe(0);
    const run = spawnSync('docker', ['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', '--user', engine.user!, '--workdir', engine.workingDirectory!, '--entrypoint', engine.entryPoint![0]!, `${LOADED}:latest`, ...engine.entryPoint!.slice(1)], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('app\nengine\nengine-media\napp-media\n1000\n/opt/local/engine\n');
    expect(run.status).toBe(0);
    const image = await runCli(['ecs', '--local', '--volumes', 'image'], { cwd: dir });
    expect(image.code).toBe(2);
    expect(image.stderr).toBe('error[deploy.option]: --volumes: got "image"; expected none or init (ECS has no image volumes)\n');
  });

  it('deploy.volumes: none in gamelayer.yaml is taken; --volumes init goes over it', async () => {
    const yaml = path.join(dir, 'gamelayer.yaml');
    const text = await readFile(yaml, 'utf8');
    await writeFile(yaml, `${text}deploy:\n  volumes: none\n  readOnlyRootFilesystem: false\n`);
    try {
      await serverOnly([]);
      const init = await runCli(['ecs', '--local', '--volumes', 'init'], { cwd: dir });
      expect(init.code).toBe(1);
      expect(init.stderr).toBe(REFUSED);
    } finally {
      await writeFile(yaml, text);
    }
  });

  it('--help names the modes', async () => {
    const help = (await runCli(['ecs', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--volumes <mode> none: the server image as the engine container, every tree in place (a tree mounted at / needs it); init: copy containers copy the trees (default: deploy.volumes, else init)');
  });
});
