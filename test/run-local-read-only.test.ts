// deploy.readOnlyRootFilesystem (opt-in) on the real Docker engine: run-local runs the pod `k8s` emits, so the engine
// runs as uid 1000 with a read-only root (Docker's ReadonlyRootfs) and writes only under deploy.writablePaths
// (emptyDirs: Docker volumes here), while the trees' copies still reach it.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { runLocal } from '../src/runlocal/run-local.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { copySample, sampleYamlOn } from './support/sample.js';
import { removeGameImages, runLeftovers } from './support/run-local-daemon.js';
import { tempDir } from './support/tmp.js';

const GAME = 'run-local-read-only-test';
const docker = new Docker();
let config: GameConfig;

beforeAll(async () => {
  const work = await tempDir('gl-run-local-ro-');
  const baseRef = await writeBusyboxLayout(path.join(work, 'busybox-layout'));
  await removeGameImages(docker, GAME);
  const dir = path.join(work, 'game');
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  const text = sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef);
  await writeFile(yaml, `${text}\ndeploy:\n  readOnlyRootFilesystem: true\n  writablePaths: [/tmp, /var/log/game]\n`);
  config = await loadConfig(yaml);
  await build({ config });
});

afterAll(async () => {
  expect(await runLeftovers(docker, GAME)).toEqual([]);
  await removeGameImages(docker, GAME);
});

describe('run-local with deploy.readOnlyRootFilesystem', () => {
  it('the engine writes to its writable paths and nowhere else on its root; the copied trees are in place', async () => {
    const lines: string[] = [];
    const script = [
      'id -u',
      'touch /tmp/a /var/log/game/b && echo writable-ok',
      // As uid 1000 the image's own folders are not writable anyway: the mount's options say what the root is.
      'echo "root-$(awk \'$2 == "/" { split($4, o, ","); print o[1] }\' /proc/mounts)"',
      'test -f /opt/local/app-media/.complete && echo trees-ok',
    ].join('; ');
    const r = await runLocal({ config, network: 'none', k8s: { kind: 'pod', volumes: 'init' }, args: ['sh', '-c', script], logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(lines).toEqual(expect.arrayContaining(['engine: 1000', 'engine: writable-ok', 'engine: root-ro', 'engine: trees-ok']));
    expect(r.exitCode).toBe(0);
  });
});
