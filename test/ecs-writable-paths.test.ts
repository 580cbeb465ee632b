// An ECS task with deploy.readOnlyRootFilesystem: its `writable-paths` container, run on the real Docker engine as
// ECS runs it (user 0, read-only root, every capability dropped, no-new-privileges) over fresh volumes (root's,
// 0755, as ECS makes task volumes), opens each folder to the engine's user; the engine, as its task definition says
// (user 1000:1000, read-only root), then writes there. Without that container the engine could not.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { busyboxImage } from './support/docker-images.js';
import { REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';

const PATHS = ['/tmp', '/var/log/game'];
const volumes = PATHS.map(() => `gl-ecs-writable-${randomBytes(4).toString('hex')}`);
let image: string;

function docker(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `docker run` of a container definition's user, root file system, capabilities and mounts, on the test image. */
function runAsEcs(c: ContainerDefinition, command: string[], vols: string[]): { code: number | null; out: string } {
  const args = ['run', '--rm', '--network', 'none', '--user', c.user!, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
  if (c.readonlyRootFilesystem) args.push('--read-only');
  c.mountPoints!.forEach((m, i) => args.push('-v', `${vols[i]}:${m.containerPath}`));
  return docker([...args, '--entrypoint', command[0]!, image, ...command.slice(1)]);
}

beforeAll(async () => {
  image = await busyboxImage();
});

afterAll(() => {
  for (const v of volumes) docker(['volume', 'rm', '-f', v]);
});

describe('ecs writable paths on a read-only root', () => {
  it('the writable-paths container opens each task volume to the engine user, with every capability dropped', () => {
    const td = ecsTaskDefinition(deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY), { launchType: 'ec2', writablePaths: PATHS }).taskDefinition;
    const prep = td.containerDefinitions!.find((c) => c.name === 'writable-paths')!;
    const engine = td.containerDefinitions!.find((c) => c.name === 'engine')!;
    expect(prep.linuxParameters!.capabilities!.drop).toEqual(['ALL']);
    const engineMounts = engine.mountPoints!.filter((m) => m.sourceVolume!.startsWith('writable-'));
    const asEngine = { ...engine, mountPoints: engineMounts };
    const write = ['sh', '-c', `for d in ${PATHS.join(' ')}; do touch "$d/engine-wrote" || exit 1; done; id -u`];

    for (const v of volumes) expect(docker(['volume', 'create', v]).code).toBe(0);
    // ECS's task volume as it comes: root's, 0755. The engine's user cannot write there.
    expect(runAsEcs(asEngine, write, volumes).code).not.toBe(0);

    const opened = runAsEcs(prep, prep.entryPoint!, volumes);
    expect(opened.out).toBe('');
    expect(opened.code).toBe(0);
    const wrote = runAsEcs(asEngine, write, volumes);
    expect(wrote.out).toBe('1000\n');
    expect(wrote.code).toBe(0);
  });
});
