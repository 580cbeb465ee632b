// Fargate refuses dockerSecurityOptions, so a Fargate task's engine ran without no-new-privileges: a setuid-root
// program in its image still took effect (with every capability dropped, a saved uid of 0 it could switch back to).
// The start guard of a Fargate task now execs the engine through `setpriv --no-new-privs` where the image has setpriv,
// and says so on stderr where it has not. Run here on the real Docker engine as Fargate runs the engine container
// (its user, every capability dropped, ECS's init process, no security option), on three bases: busybox (its setpriv
// applet), a dynamic dash with util-linux's setpriv, and the same dash without setpriv. The engine is a setuid-root
// copy of busybox printing /proc/self/status. The copy volumes are left out: each image holds the sentinels.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ecsTaskDefinition, type EcsOptions } from '../src/ecs/task-definition.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { BUSYBOX_BIN } from './support/busybox-layout.js';
import { busyboxImage, docker, drain, removeImages, tarOf } from './support/docker-images.js';
import { REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';

const SUID = '/s/busybox';
const ENGINE = [SUID, 'cat', '/proc/self/status'];
const WARNING = 'gamelayer: no-new-privileges could not be set: this image has no setpriv (util-linux or busybox); the engine runs without it\n';
const id = randomBytes(4).toString('hex');
const images = { busybox: `gamelayer-test/nnp-busybox:${id}`, dash: `gamelayer-test/nnp-dash:${id}`, dashSetpriv: `gamelayer-test/nnp-dash-setpriv:${id}` };

type File = { name: string; content: Buffer; mode: number };

/** A host program and the shared libraries `ldd` names for it, at their own paths under `root/`. */
function withLibraries(program: string, as: string): File[] {
  const libs = [...execFileSync('ldd', [program], { encoding: 'utf8' }).matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
  return [
    { name: `root${as}`, content: readFileSync(program), mode: 0o755 },
    ...libs.map((l) => ({ name: `root${l}`, content: readFileSync(l), mode: 0o755 })),
  ];
}

/** Builds `tag` from `from` with `files` and, if given, `script` run as root by the busybox at /bin/busybox. */
async function build(tag: string, from: string, files: File[], script?: string): Promise<void> {
  const run = script ? [`RUN ${JSON.stringify(['/bin/busybox', 'sh', '-c', script])}`] : [];
  const dockerfile = [`FROM ${from}`, ...(files.length ? ['COPY root/ /'] : []), ...run].join('\n');
  const context = await tarOf([{ name: 'Dockerfile', content: Buffer.from(dockerfile), mode: 0o644 }, ...files]);
  await drain(await docker.buildImage(Readable.from([context]), { t: tag, rm: true, forcerm: true }));
}

/** The engine container of a task definition, run as ECS runs it (no copy volumes: the image holds the sentinels). */
function runEngine(c: ContainerDefinition, image: string): { code: number | null; stdout: string; stderr: string } {
  const args = ['run', '--rm', '--network', 'none', '--user', c.user!, '--workdir', c.workingDirectory!];
  for (const cap of c.linuxParameters!.capabilities!.drop!) args.push('--cap-drop', cap);
  if (c.linuxParameters!.initProcessEnabled) args.push('--init');
  for (const o of c.dockerSecurityOptions ?? []) args.push('--security-opt', o);
  const r = spawnSync('docker', [...args, '--entrypoint', c.entryPoint![0]!, image, ...c.entryPoint!.slice(1), ...ENGINE], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const status = (out: string, field: string) => out.split('\n').find((l) => l.startsWith(`${field}:`))?.split(/\s+/).slice(1).join(' ');
const engineOf = (o: Partial<EcsOptions>) =>
  ecsTaskDefinition(deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY), o).taskDefinition.containerDefinitions!.find((c) => c.name === 'engine')!;

beforeAll(async () => {
  removeImages(Object.values(images));
  // The setuid-root copy, made by root in the build, and the copy containers' sentinels.
  const setup = `mkdir -p /s /opt/local/engine && cp /bin/busybox ${SUID} && chmod 4755 ${SUID} && for t in engine-media app app-media; do mkdir -p /opt/local/$t && : > /opt/local/$t/.complete; done`;
  await build(images.busybox, await busyboxImage(), [], setup);
  // dash as /bin/sh, nothing else on PATH (/bin): a shell whose `command -v setpriv` finds nothing.
  const busybox = { name: 'root/bin/busybox', content: readFileSync(BUSYBOX_BIN), mode: 0o755 };
  await build(images.dash, 'scratch', [...withLibraries('/bin/dash', '/bin/sh'), busybox], `${setup} && rm /bin/busybox`);
  await build(images.dashSetpriv, images.dash, withLibraries('/usr/bin/setpriv', '/bin/setpriv'));
}, 120_000);

describe('ecs on Fargate: the start guard sets no-new-privileges (real Docker engine)', () => {
  const fargate = () => engineOf({});

  it('the task definition: no dockerSecurityOptions (Fargate refuses them), the engine as uid 1000, every capability dropped', () => {
    const c = fargate();
    expect([c.dockerSecurityOptions, c.user, c.linuxParameters!.capabilities!.drop]).toEqual([undefined, '1000:1000', ['ALL']]);
  });

  for (const [base, image] of [['busybox (its setpriv applet)', images.busybox], ["util-linux's setpriv under dash", images.dashSetpriv]] as const) {
    it(`${base}: the setuid-root engine runs with NoNewPrivs 1 and stays uid 1000 (saved uid too)`, () => {
      const r = runEngine(fargate(), image);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(status(r.stdout, 'NoNewPrivs')).toBe('1');
      expect(status(r.stdout, 'Uid')).toBe('1000 1000 1000 1000');
    });
  }

  it('no setpriv in the image: one line on stderr, and the engine starts without it (the setuid bit takes effect)', () => {
    const r = runEngine(fargate(), images.dash);
    expect(r.stderr).toBe(WARNING);
    expect(r.code).toBe(0);
    expect(status(r.stdout, 'NoNewPrivs')).toBe('0');
    expect(status(r.stdout, 'Uid')).toBe('1000 1000 0 1000');
  });

  it('EC2 as before: dockerSecurityOptions sets it, the guard execs the engine directly', () => {
    const c = engineOf({ launchType: 'ec2' });
    expect(c.dockerSecurityOptions).toEqual(['no-new-privileges']);
    expect(c.entryPoint![2]).not.toContain('setpriv');
    const r = runEngine(c, images.dash);
    expect([r.code, r.stderr, status(r.stdout, 'NoNewPrivs'), status(r.stdout, 'Uid')]).toEqual([0, '', '1', '1000 1000 1000 1000']);
  });
});
