// The engine tree mounted at / (a server image laid out from the root) with the other trees copied: each copy
// container holds only its own tree image (the base plus that tree at its mount) and its target volume, so the
// engine's mount at / hides nothing there. The copy-target rule refused it all the same ("copy target
// /mnt/engine-media … overlaps the mount / of tree engine", for every --copy-root); run-local, which runs the pod
// `k8s --volumes init` emits on the real Docker engine, now runs it and the engine sees every tree.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { runLocal } from '../src/runlocal/run-local.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { removeGameImages, runLeftovers } from './support/run-local-daemon.js';
import { writeTinyGame } from './support/trees.js';
import { tempDir } from './support/tmp.js';

const GAME = 'run-local-engine-at-root-test';
const docker = new Docker();
let config: GameConfig;

beforeAll(async () => {
  const work = await tempDir('gl-run-local-engine-root-');
  const baseRef = await writeBusyboxLayout(path.join(work, 'busybox-layout'));
  await removeGameImages(docker, GAME);
  const dir = path.join(work, 'game');
  await writeTinyGame(dir, [`game: ${GAME}`, `baseImage: ${baseRef}`, 'start: [/bin/sh, -c, "exit 3"]']);
  // The engine at /, the others at their default mounts (/opt/local/<tree>).
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('engine: {source: engine}', 'engine: {source: engine, mount: /}'));
  config = await loadConfig(yaml);
  expect(config.trees.engine.mount).toBe('/');
  await build({ config });
});

afterAll(async () => {
  expect(await runLeftovers(docker, GAME)).toEqual([]);
  await removeGameImages(docker, GAME);
});

describe('run-local with the engine tree at /', () => {
  it.each(['/mnt', '/opt/local/copies'])('copies the other trees (--copy-root %s) and the engine sees all four', async (copyRoot) => {
    const lines: string[] = [];
    const script = 'cat /f.txt /opt/local/engine-media/f.txt /opt/local/app/f.txt /opt/local/app-media/f.txt';
    const r = await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init', copyRoot }, args: ['sh', '-c', script], logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(lines.filter((l) => l.startsWith('engine: '))).toEqual(['engine: engine', 'engine: engine-media', 'engine: app', 'engine: app-media']);
    expect(r.exitCode).toBe(0);
  });
});
