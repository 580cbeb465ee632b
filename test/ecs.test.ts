// Shape of the ECS task definition: copy containers the engine depends on, shared volumes, storage from the trees.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ECSClient, RegisterTaskDefinitionCommand, type ContainerDefinition, type RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { ecsJson, ecsTaskDefinition, type EcsOptions } from '../src/ecs/task-definition.js';
import { ecsOptionsFromConfig } from '../src/ecs/from-deploy.js';
import { deployInputFrom, type DeployInput } from '../src/k8s/input.js';
import { k8sWorkload } from '../src/k8s/workloads.js';
import { REPOSITORY, fixtureConfig, fixtureRecord, manifest, sha } from './k8s-fixture.js';

const NON_ENGINE = ['engine-media', 'app', 'app-media'] as const;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const diskMi = (bytes: number, entries: number) => Math.ceil(((bytes + entries * 4096) * 1.1) / MiB);

function input(record = fixtureRecord()): DeployInput {
  return deployInputFrom(fixtureConfig(), record, REPOSITORY);
}

function byName(defs: ContainerDefinition[] | undefined, name: string): ContainerDefinition {
  return defs!.find((c) => c.name === name)!;
}

describe('ecs task definition', () => {
  it('non-essential copy containers, the engine depends on each with SUCCESS, volumes shared, images pinned', () => {
    const { taskDefinition: td } = ecsTaskDefinition(input());
    const defs = td.containerDefinitions!;
    expect(defs.map((c) => c.name)).toEqual(['copy-engine-media', 'copy-app', 'copy-app-media', 'engine']);
    expect(td.volumes).toEqual(NON_ENGINE.map((t) => ({ name: `tree-${t}` })));
    for (const t of NON_ENGINE) {
      const c = byName(defs, `copy-${t}`);
      expect(c.essential).toBe(false);
      expect(c.image).toBe(`${REPOSITORY}:v1-${t}@${sha(`${t}-image`)}`);
      expect(c.mountPoints).toEqual([{ sourceVolume: `tree-${t}`, containerPath: `/mnt/${t}`, readOnly: false }]);
      expect(c.entryPoint![2]).toContain(`cp -R -P -f '/opt/local/${t}/.' '/mnt/${t}/'`);
      expect(c.readonlyRootFilesystem).toBe(true);
      expect(c.linuxParameters!.capabilities!.drop).toEqual(['ALL']);
    }
    const engine = byName(defs, 'engine');
    expect(engine.essential).toBe(true);
    expect(engine.image).toBe(`${REPOSITORY}:v1-engine@${sha('engine-image')}`);
    expect(engine.dependsOn).toEqual(NON_ENGINE.map((t) => ({ containerName: `copy-${t}`, condition: 'SUCCESS' })));
    expect(engine.mountPoints).toEqual(NON_ENGINE.map((t) => ({ sourceVolume: `tree-${t}`, containerPath: `/opt/local/${t}`, readOnly: false })));
    for (const t of NON_ENGINE) expect(engine.entryPoint![2]).toContain(`if [ ! -f '/opt/local/${t}/.complete' ]; then`);
    expect(engine.entryPoint![3]).toBe('gamelayer-start');
    expect(engine.command).toEqual(['./bin/server', '-port', '7777']);
    expect(engine.portMappings).toEqual([{ name: 'game', containerPort: 7777, protocol: 'udp' }]);
    expect(td.requiresCompatibilities).toEqual(['FARGATE']);
    expect(td.networkMode).toBe('awsvpc');
    expect(td.runtimePlatform).toEqual({ operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' });
    expect(td.tags).toContainEqual({ key: 'gamelayer.tree.app-media', value: sha('app-mediamanifest') });
  });

  // k8s writes allowPrivilegeEscalation: false; the task definitions had no no-new-privileges at all. ECS refuses
  // dockerSecurityOptions on Fargate, so only EC2 tasks get it.
  it('no-new-privileges on every container of an EC2 task; none on Fargate, which refuses the field', () => {
    for (const networkMode of ['awsvpc', 'host', 'bridge'] as const) {
      const ec2 = ecsTaskDefinition(input(), { launchType: 'ec2', networkMode }).taskDefinition.containerDefinitions!;
      expect(ec2.map((c) => [c.name, c.dockerSecurityOptions])).toEqual(ec2.map((c) => [c.name, ['no-new-privileges']]));
    }
    const fargate = ecsTaskDefinition(input()).taskDefinition.containerDefinitions!;
    expect(fargate.map((c) => c.dockerSecurityOptions)).toEqual(fargate.map(() => undefined));
  });

  // Fargate has no dockerSecurityOptions (its API reference: they are "not valid for containers in tasks using the
  // Fargate launch type"), and its note said nothing set no-new-privileges there. The start guard now sets it through
  // setpriv (test/ecs-fargate-no-new-privileges.test.ts runs it); the note says what that covers, and where there is no
  // guard (--volumes none, a scratch base) that nothing sets it.
  it('Fargate: the guard execs the engine through setpriv and the note says what it covers; EC2 as before', () => {
    const what = 'no-new-privileges (allowPrivilegeEscalation: false on Kubernetes, dockerSecurityOptions on EC2)';
    const fargate = ecsTaskDefinition(input());
    expect(fargate.notes).toContain(
      `Fargate refuses dockerSecurityOptions, so the start guard sets ${what}: it execs the engine through setpriv --no-new-privs ` +
        'where the engine image has setpriv (util-linux: Debian, Ubuntu; busybox) and says on stderr where it has not; the health check and ECS Exec run without it',
    );
    const guard = byName(fargate.taskDefinition.containerDefinitions, 'engine').entryPoint![2]!.trimEnd().split('\n');
    expect(guard.slice(-3)).toEqual([
      'if command -v setpriv >/dev/null 2>&1; then exec setpriv --no-new-privs -- "$@"; fi',
      "echo 'gamelayer: no-new-privileges could not be set: this image has no setpriv (util-linux or busybox); the engine runs without it' >&2",
      'exec "$@"',
    ]);
    const unguarded = (why: string) =>
      `Fargate refuses dockerSecurityOptions and ${why}, so nothing sets ${what}: a setuid program in the engine image still changes its user, ` +
      'though with every capability dropped; use a base image without setuid programs, or --launch-type ec2';
    expect(ecsTaskDefinition(input(), { volumes: 'none' }).notes).toContain(unguarded('--volumes none runs the server image without the start guard'));
    expect(ecsTaskDefinition({ ...input(), baseImage: 'scratch' }).notes).toContain(unguarded('a scratch base has no shell to run the start guard'));
    const ec2 = ecsTaskDefinition(input(), { launchType: 'ec2' });
    expect(ec2.notes.join('\n')).not.toContain('no-new-privileges');
    expect(byName(ec2.taskDefinition.containerDefinitions, 'engine').entryPoint![2]).not.toContain('setpriv');
  });

  // A trial found k8s saying this and ecs not: a task on a scratch base was written without a word and failed at its
  // first copy container (sh: not found).
  it('a scratch base image: says the copy containers and start guard cannot run', () => {
    const scratch = { ...input(), baseImage: 'scratch' };
    expect(ecsTaskDefinition(scratch).notes).toContain(
      'baseImage is scratch: the tree images have no sh or cp, so the copy containers and the start guard cannot run; set baseImage in gamelayer.yaml to an image with a POSIX shell (busybox, debian-slim, ...)',
    );
    expect(ecsTaskDefinition(input()).notes.join('\n')).not.toContain('scratch');
  });

  it('small game: Fargate default storage suffices, says so, leaves ephemeralStorage out', () => {
    const e = ecsTaskDefinition(input());
    expect(e.taskDefinition.ephemeralStorage).toBeUndefined();
    // images (all four trees) + copies (three) + 1 GiB scratch, from the fixture's bytes and entries.
    const images = diskMi(3_001_000, 4) + diskMi(57_000_000, 4) + diskMi(2_000_300, 4) + diskMi(1_020_000_001, 5);
    const copies = diskMi(57_000_000, 4) + diskMi(2_000_300, 4) + diskMi(1_020_000_001, 5);
    expect(e.ephemeralBytes).toBe((images + copies) * MiB + GiB);
    expect(e.notes).toContain("the task needs 4 GiB of ephemeral storage: Fargate's default 20 GiB is enough");
  });

  it('big game: ephemeral storage sized from the trees within 21-200 GiB; beyond 200 an exact error', () => {
    const record = fixtureRecord();
    record.manifests = record.manifests.map((m) => (m.tree === 'app-media' ? manifest('app-media', [{ size: 30 * GiB }]) : m));
    const e = ecsTaskDefinition(input(record));
    const images = diskMi(3_001_000, 4) + diskMi(57_000_000, 4) + diskMi(2_000_300, 4) + diskMi(30 * GiB, 3);
    const copies = diskMi(57_000_000, 4) + diskMi(2_000_300, 4) + diskMi(30 * GiB, 3);
    expect(e.taskDefinition.ephemeralStorage).toEqual({ sizeInGiB: Math.ceil(((images + copies) * MiB + GiB) / GiB) });
    expect(e.taskDefinition.ephemeralStorage!.sizeInGiB).toBe(68);

    record.manifests = record.manifests.map((m) => (m.tree === 'app-media' ? manifest('app-media', [{ size: 100 * GiB }]) : m));
    expect(() => ecsTaskDefinition(input(record))).toThrow(
      /^the task needs 222 GiB of ephemeral storage \(images 110\.1 GiB, copies 110\.1 GiB, scratch 1\.0 GiB\); Fargate offers at most 200 GiB$/,
    );
    // On EC2 the host's disk holds it: no ephemeralStorage field, no limit.
    const ec2 = ecsTaskDefinition(input(record), { launchType: 'ec2' }).taskDefinition;
    expect(ec2.ephemeralStorage).toBeUndefined();
    expect(ec2.requiresCompatibilities).toEqual(['EC2']);
  });

  it('options: size pairs checked for Fargate, arm64, roles, engine user', () => {
    expect(() => ecsTaskDefinition(input(), { cpu: 1024, memory: 1024 })).toThrow(
      '--memory: got 1024; expected for --cpu 1024 on Fargate: 2048-8192 MiB in steps of 1024',
    );
    expect(() => ecsTaskDefinition(input(), { cpu: 3000 })).toThrow('--cpu: got 3000; expected a Fargate CPU size');
    expect(() => ecsTaskDefinition(input(), { platform: 'linux/arm64' })).toThrow(
      '--platform: got "linux/arm64"; expected one of the built platforms: linux/amd64',
    );
    const arm = input();
    arm.platforms = ['linux/arm64'];
    const td = ecsTaskDefinition(arm, {
      cpu: 4096,
      memory: 16384,
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      engineUser: '1000:1000',
    }).taskDefinition;
    expect(td.runtimePlatform!.cpuArchitecture).toBe('ARM64');
    expect(td.cpu).toBe('4096');
    expect(td.memory).toBe('16384');
    expect(td.executionRoleArn).toBe('arn:aws:iam::123456789012:role/ecsTaskExecutionRole');
    expect(byName(td.containerDefinitions, 'engine').user).toBe('1000:1000');
    expect(ecsTaskDefinition(input()).notes.join('\n')).toMatch(/images are in ECR: pass --execution-role-arn/);
  });

  // The Kubernetes specs run the engine as uid 1000 (runAsNonRoot); the task ran it as the image's user, root on the
  // usual bases. The copies stay root, stated: ECS's task volumes are root's 0755 and they drop every capability.
  it('the engine runs as 1000:1000 unless --user says otherwise; the copies as root', () => {
    const defs = ecsTaskDefinition(input()).taskDefinition.containerDefinitions!;
    expect(byName(defs, 'engine').user).toBe('1000:1000');
    for (const t of NON_ENGINE) expect([t, byName(defs, `copy-${t}`).user]).toEqual([t, '0']);
    expect(byName(ecsTaskDefinition(input(), { engineUser: '0' }).taskDefinition.containerDefinitions, 'engine').user).toBe('0');
    expect(byName(ecsTaskDefinition(input(), { engineUser: '4242' }).taskDefinition.containerDefinitions, 'engine').user).toBe('4242');
  });

  it('same input, same bytes', () => {
    expect(ecsJson(ecsTaskDefinition(input()))).toBe(ecsJson(ecsTaskDefinition(input())));
  });

  // The ECS check took a mount M as overlapping only targets equal to M or under `M/`: for M = / that is `//…`, so a
  // tree at / let its copy run `cp -R /. /mnt/app/`, into itself. Both now share one rule; a copied tree at / cannot
  // be delivered at all (its volume would be mounted over the engine's root): refused naming the field and the mode.
  it('a non-engine tree mounted at /: refused in copy (and image) mode, naming trees.<tree>.mount and --volumes none', () => {
    const rooted = deployInputFrom(fixtureConfig('', '/games/my-game', { app: '/' }), fixtureRecord(), REPOSITORY);
    const said = expect.objectContaining({
      code: 'deploy.tree-at-root',
      message: "tree app is mounted at / (trees.app.mount): it cannot be delivered as a volume of its own, which would be mounted over the engine's root file system",
      hint: 'run the server image, which holds every tree at its mount: --volumes none (deploy.volumes: none); or mount tree app at a folder of its own',
    });
    for (const copyRoot of ['/mnt', '/', '/srv/copies']) {
      expect(() => ecsTaskDefinition(rooted, { copyRoot })).toThrow(said);
      expect(() => k8sWorkload(rooted, { kind: 'pod', volumes: 'init', copyRoot })).toThrow(said);
    }
    expect(() => k8sWorkload(rooted, { kind: 'pod', volumes: 'image' })).toThrow(said);
  });

  // ECS had no mode for a tree at /: every task copied the trees. `--volumes none` (k8s's name) runs the server image,
  // which holds every tree at its mount, as the one container.
  it('--volumes none: the server image alone, its start command stated, no copies, volumes or dependsOn', () => {
    const rooted = deployInputFrom(fixtureConfig('', '/games/my-game', { app: '/' }), fixtureRecord(), REPOSITORY);
    for (const i of [input(), rooted]) {
      const e = ecsTaskDefinition(i, { volumes: 'none' });
      const td = e.taskDefinition;
      expect(td.volumes).toEqual([]);
      expect(td.containerDefinitions).toEqual([
        {
          name: 'engine',
          image: `${REPOSITORY}:v1@${sha('server-image')}`,
          essential: true,
          entryPoint: ['./bin/server', '-port', '7777'],
          workingDirectory: '/opt/local/engine',
          user: '1000:1000',
          mountPoints: [],
          portMappings: [{ name: 'game', containerPort: 7777, protocol: 'udp' }],
          linuxParameters: { capabilities: { drop: ['ALL'] }, initProcessEnabled: true },
          dockerLabels: Object.fromEntries(td.tags!.map((t) => [t.key, t.value])),
        },
      ]);
      // The server image holds the four trees' layers, as the tree images do; nothing is copied.
      expect(e.ephemeralBytes).toBe(ecsTaskDefinition(input()).ephemeralBytes - (diskMi(57_000_000, 4) + diskMi(2_000_300, 4) + diskMi(1_020_000_001, 5)) * MiB);
    }
    // A read-only root: the writable-paths container runs the same image, and the engine waits for it.
    const ro = ecsTaskDefinition(rooted, { volumes: 'none', writablePaths: ['/tmp'] }).taskDefinition.containerDefinitions!;
    expect(ro.map((c) => [c.name, c.image])).toEqual([['writable-paths', `${REPOSITORY}:v1@${sha('server-image')}`], ['engine', `${REPOSITORY}:v1@${sha('server-image')}`]]);
    expect(byName(ro, 'engine').dependsOn).toEqual([{ containerName: 'writable-paths', condition: 'SUCCESS' }]);
    // ECS has no image volumes; a build without a server image has nothing to run.
    expect(() => ecsTaskDefinition(input(), { volumes: 'image' as never })).toThrow('--volumes: got "image"; expected none or init (ECS has no image volumes)');
    const old = fixtureRecord();
    old.images = old.images.filter((im) => im.name !== 'server');
    expect(() => ecsTaskDefinition(input(old), { volumes: 'none' })).toThrow(expect.objectContaining({ code: 'deploy.no-server-image', hint: 'build again with gamelayer build (it writes the server image), or pass --volumes init' }));
  });

  // The rule refused a copy target overlapping any tree's mount, though a copy container holds only its own tree:
  // the engine at / (or a --copy-root inside the engine's mount) was refused for every target.
  it('the engine at /: the other trees copied to /mnt/<tree>; only a target on, above or in its own tree is refused', () => {
    const engineAtRoot = deployInputFrom(fixtureConfig('', '/games/my-game', { engine: '/' }), fixtureRecord(), REPOSITORY);
    const defs = ecsTaskDefinition(engineAtRoot).taskDefinition.containerDefinitions!;
    for (const t of NON_ENGINE) expect(byName(defs, `copy-${t}`).mountPoints).toEqual([{ sourceVolume: `tree-${t}`, containerPath: `/mnt/${t}`, readOnly: false }]);
    expect(byName(defs, 'engine').workingDirectory).toBe('/');
    const inEngine = ecsTaskDefinition(input(), { copyRoot: '/opt/local/engine/copies' }).taskDefinition.containerDefinitions!;
    expect(byName(inEngine, 'copy-app').mountPoints![0]!.containerPath).toBe('/opt/local/engine/copies/app');
    // On (the target is the mount), inside it, above it.
    for (const [copyRoot, target, mount] of [['/srv', '/srv/app', '/srv/app'], ['/srv/app/x', '/srv/app/x/app', '/srv/app'], ['/', '/app', '/app/files']] as const) {
      const i = deployInputFrom(fixtureConfig('', '/games/my-game', { app: mount }), fixtureRecord(), REPOSITORY);
      const message = `copy target ${target} of tree app overlaps its mount ${mount}: the copy would hide the files it copies`;
      expect(() => ecsTaskDefinition(i, { copyRoot })).toThrow(expect.objectContaining({ code: 'deploy.copy-target', message }));
      expect(() => k8sWorkload(i, { kind: 'pod', volumes: 'init', copyRoot })).toThrow(expect.objectContaining({ code: 'deploy.copy-target', message }));
    }
  });
});

describe('ecs: logs, health check, stop timeout, network mode', () => {
  const full = (over: Partial<EcsOptions> = {}) =>
    ecsTaskDefinition(input(), {
      logs: { group: '/games/my-game', createGroup: true },
      health: { command: 'test -f /tmp/ready', intervalSeconds: 10, retries: 5, startPeriodSeconds: 60 },
      stopTimeout: 90,
      ...over,
    });

  it('awslogs on every container (region from the ECR repository), healthCheck and stopTimeout on the engine', () => {
    const td = full().taskDefinition;
    const logs = { logDriver: 'awslogs', options: { 'awslogs-group': '/games/my-game', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'my-game', 'awslogs-create-group': 'true' } };
    for (const c of td.containerDefinitions!) expect(c.logConfiguration).toEqual(logs);
    const engine = byName(td.containerDefinitions, 'engine');
    expect(engine.healthCheck).toEqual({ command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 10, timeout: 5, retries: 5, startPeriod: 60 });
    expect(engine.stopTimeout).toBe(90);
    for (const c of td.containerDefinitions!.filter((c) => c.name !== 'engine')) expect(c.healthCheck).toBeUndefined();
    // Without a log group Fargate loses the output: said so.
    expect(ecsTaskDefinition(input()).notes.join('\n')).toContain("no log configuration: on Fargate the game's output goes nowhere");
    expect(full().notes.join('\n')).not.toContain('no log configuration');
  });

  it('network modes: awsvpc on Fargate only; host and bridge (with a host port) on EC2', () => {
    expect(() => full({ networkMode: 'host' })).toThrow('--network-mode: got "host"; expected awsvpc on Fargate (bridge and host need --launch-type ec2)');
    const host = full({ launchType: 'ec2', networkMode: 'host' }).taskDefinition;
    expect(host.networkMode).toBe('host');
    expect(byName(host.containerDefinitions, 'engine').portMappings).toEqual([{ name: 'game', containerPort: 7777, protocol: 'udp' }]);
    const bridge = full({ launchType: 'ec2', networkMode: 'bridge', hostPort: 0 }).taskDefinition;
    expect(bridge.networkMode).toBe('bridge');
    expect(byName(bridge.containerDefinitions, 'engine').portMappings).toEqual([{ name: 'game', containerPort: 7777, hostPort: 0, protocol: 'udp' }]);
    expect(() => full({ launchType: 'ec2', networkMode: 'host', hostPort: 7000 })).toThrow(/^--host-port: got 7000; expected nothing with --network-mode host/);
    expect(() => full({ stopTimeout: 300 })).toThrow('--stop-timeout: got 300; expected whole seconds from 2 to 120 on Fargate');
    expect(full({ launchType: 'ec2', stopTimeout: 300 }).taskDefinition.containerDefinitions!.at(-1)!.stopTimeout).toBe(300);
    expect(() => full({ health: { command: 'true', intervalSeconds: 1 } })).toThrow('--health-interval: got 1; expected whole seconds (or times) from 5 to 300');
    const plain = deployInputFrom(fixtureConfig(), fixtureRecord(), 'localhost:5000/my-game');
    // Without --log-region, the message names the missing region, not a --log-region that was never given.
    expect(() => ecsTaskDefinition(plain, { logs: { group: 'g' } })).toThrow(/^--log-group g: the log group's region is unknown \(the repository \S+ is not an ECR repository, which would name it\)$/);
    expect(ecsTaskDefinition(plain, { logs: { group: 'g', region: 'eu-west-1' } }).taskDefinition.containerDefinitions![0]!.logConfiguration!.options!['awslogs-region']).toBe('eu-west-1');
  });

  it('every field is one the ECS SDK sends: RegisterTaskDefinitionCommand serialises each variant unchanged', async () => {
    // The SDK's serialiser copies only the fields RegisterTaskDefinitionCommandInput declares: a field it drops
    // (or renames) makes the body differ from what we emitted. A loopback server stands in for ECS.
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push({ target: req.headers['x-amz-target'], body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ taskDefinition: { family: 'x', revision: 1 } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
      const variants: RegisterTaskDefinitionCommandInput[] = [
        full().taskDefinition,
        full({ launchType: 'ec2', networkMode: 'host' }).taskDefinition,
        full({ launchType: 'ec2', networkMode: 'bridge', hostPort: 7777 }).taskDefinition,
        ecsTaskDefinition(input()).taskDefinition,
        ecsTaskDefinition(input(), { volumes: 'none' }).taskDefinition,
        fromSection().emission.taskDefinition,
      ];
      for (const td of variants) await client.send(new RegisterTaskDefinitionCommand(td));
      client.destroy();
      expect(bodies).toEqual(variants.map((td) => ({ target: 'AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition', body: JSON.parse(JSON.stringify(td)) })));
    } finally {
      server.close();
    }
  });
});

// gamelayer.yaml's deploy section, where ECS has an equivalent; fixtureConfig's deploy text starts on line 11.
const SECTION = [
  'deploy:',
  '  nodeSelector: {eks.amazonaws.com/nodegroup: game-servers}',
  '  terminationGracePeriodSeconds: 300',
  '  env:',
  '    - {name: GAME_REGION, value: eu-west-1}',
  '    - name: POD_NAME',
  '      valueFrom: {fieldRef: {fieldPath: metadata.name}}',
  '  resources:',
  '    requests: {cpu: 500m, memory: 1Gi}',
  '    limits: {cpu: "1", memory: 1536Mi}',
  '  ports:',
  '    - {name: game, containerPort: 7000, protocol: UDP}',
  '    - {name: query, containerPort: 27015, protocol: TCP}',
  '  agones:',
  '    health: {initialDelaySeconds: 30, periodSeconds: 2, failureThreshold: 4}',
  '  readOnlyRootFilesystem: true',
  '  writablePaths: [/tmp, /var/log/game]',
].join('\n');

function fromSection(flags: Partial<EcsOptions> = { health: { command: 'test -f /tmp/ready' } }) {
  const config = fixtureConfig(SECTION);
  const derived = ecsOptionsFromConfig(config.deploy);
  const emission = ecsTaskDefinition(deployInputFrom(config, fixtureRecord(), REPOSITORY), { ...derived.options, ...flags });
  return { derived, emission, engine: byName(emission.taskDefinition.containerDefinitions, 'engine') };
}

describe('ecs: the deploy section of gamelayer.yaml', () => {
  it('env, cpu/memory, ports with protocols, health timings and the grace period become the engine\'s settings', () => {
    const { derived, engine, emission } = fromSection();
    expect(engine.environment).toEqual([{ name: 'GAME_REGION', value: 'eu-west-1' }]);
    expect(engine.cpu).toBe(512); // requests.cpu 500m × 1024
    expect(engine.memory).toBe(1536); // limits.memory
    expect(engine.memoryReservation).toBe(1024); // requests.memory
    expect(engine.portMappings).toEqual([
      { name: 'game', containerPort: 7000, protocol: 'udp' },
      { name: 'query', containerPort: 27015, protocol: 'tcp' },
    ]);
    // periodSeconds 2 is below ECS's 5 s: raised, with a note.
    expect(engine.healthCheck).toEqual({ command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 5, timeout: 5, retries: 4, startPeriod: 30 });
    expect(engine.stopTimeout).toBe(120);
    const notes = derived.notes.join('\n');
    expect(notes).toContain('deploy.env: POD_NAME use valueFrom, which only a cluster resolves: left out');
    expect(notes).toContain("deploy.terminationGracePeriodSeconds 300: ECS's stopTimeout allows 2-120 s, 120 used");
    expect(notes).toContain('deploy.agones.health.periodSeconds 2: ECS allows 5-300, 5 used');
    expect(notes).toContain('deploy.nodeSelector: no ECS equivalent, left out');
    // The copy containers are untouched by the engine's settings.
    for (const c of emission.taskDefinition.containerDefinitions!.filter((c) => c.name !== 'engine')) {
      expect(c.environment).toBeUndefined();
      expect(c.memory).toBeUndefined();
    }
  });

  it('flags go over the section; without --health-cmd the timings are noted, not used; sizes checked against the task', () => {
    const { engine } = fromSection({ stopTimeout: 30, port: { containerPort: 7777, protocol: 'TCP' }, health: { command: 'true', intervalSeconds: 60 } });
    expect(engine.stopTimeout).toBe(30);
    expect(engine.portMappings![0]).toEqual({ name: 'game', containerPort: 7777, protocol: 'tcp' });
    expect(engine.healthCheck!.interval).toBe(60);
    expect(engine.healthCheck!.retries).toBe(4);
    const bare = fromSection({});
    expect(bare.engine.healthCheck).toBeUndefined();
    expect(bare.emission.notes.join('\n')).toContain('deploy.agones.health: an ECS health check needs a command; pass --health-cmd');
    expect(() => fromSection({ memory: 1024, cpu: 256 })).toThrow(/memory: the engine's 1536 MiB exceed the task's 1024 MiB|cpu: the engine's 512 CPU units exceed the task's 256/);
    expect(() => fromSection({ cpu: 256, memory: 2048 })).toThrow("deploy.resources cpu: the engine's 512 CPU units exceed the task's 256");
    // No section: nothing derived, the task definition is as before.
    expect(ecsOptionsFromConfig(fixtureConfig().deploy)).toEqual({ options: {}, notes: [] });
  });

  // Opt-in: a read-only root for the engine, its writable folders as task volumes (Fargate has no tmpfs), opened to
  // the engine's user by a root container before it starts (ECS makes task volumes root's 0755).
  it('readOnlyRootFilesystem: the engine read-only, each writable path a task volume made writable before it starts', () => {
    const { derived, engine, emission } = fromSection();
    expect(derived.options.writablePaths).toEqual(['/tmp', '/var/log/game']);
    const td = emission.taskDefinition;
    expect(engine.readonlyRootFilesystem).toBe(true);
    expect(engine.user).toBe('1000:1000');
    expect(td.volumes!.slice(-2)).toEqual([{ name: 'writable-1' }, { name: 'writable-2' }]);
    const mounts = [
      { sourceVolume: 'writable-1', containerPath: '/tmp', readOnly: false },
      { sourceVolume: 'writable-2', containerPath: '/var/log/game', readOnly: false },
    ];
    expect(engine.mountPoints!.slice(-2)).toEqual(mounts);
    const prep = byName(td.containerDefinitions, 'writable-paths');
    expect(prep).toEqual({
      name: 'writable-paths',
      image: engine.image,
      essential: false,
      user: '0',
      entryPoint: ['sh', '-c', 'chmod 1777 "$@"', 'writable-paths', '/tmp', '/var/log/game'],
      mountPoints: mounts,
      readonlyRootFilesystem: true,
      linuxParameters: { capabilities: { drop: ['ALL'] } },
    });
    expect(engine.dependsOn).toContainEqual({ containerName: 'writable-paths', condition: 'SUCCESS' });
    // Off by default; read-only with no writable path: no volume, no container for it.
    const plain = byName(ecsTaskDefinition(input()).taskDefinition.containerDefinitions, 'engine');
    expect(plain.readonlyRootFilesystem).toBeUndefined();
    const bare = ecsTaskDefinition(input(), { writablePaths: [] }).taskDefinition;
    expect(byName(bare.containerDefinitions, 'engine').readonlyRootFilesystem).toBe(true);
    expect(bare.containerDefinitions!.map((c) => c.name)).toEqual(['copy-engine-media', 'copy-app', 'copy-app-media', 'engine']);
    // On or above a mount: refused; below one (it hides that folder only): a volume like any other.
    expect(() => ecsTaskDefinition(input(), { writablePaths: ['/opt/local'] })).toThrow('writablePaths: /opt/local is on or above the mount of tree engine (/opt/local/engine)');
    expect(() => ecsTaskDefinition(input(), { writablePaths: ['/tmp/../opt'] })).toThrow('writablePaths: "/tmp/../opt": expected an absolute folder path below /');
    const below = ecsTaskDefinition(input(), { writablePaths: ['/opt/local/app-media/x'] }).taskDefinition;
    expect(byName(below.containerDefinitions, 'engine').mountPoints).toContainEqual({ sourceVolume: 'writable-1', containerPath: '/opt/local/app-media/x', readOnly: false });
  });

  it('quantities read as the config loader and the k8s specs read them (.5, 1e9, 1.5Gi), rounded up exactly', () => {
    const config = fixtureConfig('deploy:\n  resources:\n    requests: {cpu: ".5", memory: "1e9"}\n    limits: {cpu: "0.7", memory: 1.5Gi}');
    expect(ecsOptionsFromConfig(config.deploy).options).toEqual({ engineCpu: 512, engineMemoryReservation: 954, engineMemory: 1536 });
  });
});
