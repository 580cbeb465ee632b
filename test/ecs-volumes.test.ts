// A tree mounted at / on ECS: every task copied the trees, and the copy of a tree at / cannot be delivered, so such a
// game had no working task (`k8s --volumes none` worked). `ecs --volumes none` (or deploy.volumes: none) now runs the
// server image, which holds every tree in place; the copy mode is refused naming the tree, its field and that option.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeTinyGame } from './support/trees.js';
import { tempDir } from './support/tmp.js';

const REPO = '123456789012.dkr.ecr.us-east-1.amazonaws.com/ecs-rooted';
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-ecs-volumes-');
  await writeTinyGame(dir, ['game: ecs-rooted', 'start: [/opt/local/engine/run]', `registry: ${REPO}`]);
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('app: {source: app}', 'app: {source: app, mount: /}'));
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});

const REFUSED =
  "error[deploy.tree-at-root]: tree app is mounted at / (trees.app.mount): it cannot be delivered as a volume of its own, which would be mounted over the engine's root file system\n" +
  'hint: run the server image, which holds every tree at its mount: --volumes none (deploy.volumes: none); or mount tree app at a folder of its own\n';

async function serverOnly(args: string[]): Promise<void> {
  const r = await runCli(['ecs', '--local', '--json', ...args], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { images: { container: string; reference: string }[]; taskDefinition: { volumes: unknown[] } };
  expect(out.images.map((i) => i.container)).toEqual(['engine']);
  expect(out.images[0]!.reference).toMatch(new RegExp(`^${REPO}:latest@sha256:[0-9a-f]{64}$`));
  expect(out.taskDefinition.volumes).toEqual([]);
}

describe('ecs of a game with a tree mounted at /', () => {
  it('copy mode (the default) is refused naming the tree, its field and --volumes none; --volumes none runs the server image', async () => {
    const copied = await runCli(['ecs', '--local'], { cwd: dir });
    expect(copied.code).toBe(1);
    expect(copied.stderr).toBe(REFUSED);
    await serverOnly(['--volumes', 'none']);
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
