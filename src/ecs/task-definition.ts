// An ECS task definition for the game: non-essential copy containers fill task volumes, the engine container waits
// for each to exit successfully (dependsOn SUCCESS) and checks their sentinels before it starts; or (--volumes none)
// the server image as the engine container, every tree already in place.
import type {
  ContainerDefinition,
  CPUArchitecture,
  HealthCheck,
  LogConfiguration,
  NetworkMode,
  PortMapping,
  RegisterTaskDefinitionCommandInput,
  TransportProtocol,
} from '@aws-sdk/client-ecs';
import { parseEcrHost } from '../registry/ecr-host.js';
import { GamelayerError } from '../errors.js';
import type { DeployInput } from '../k8s/input.js';
import { DEFAULT_K8S_OPTIONS, type GamePort } from '../k8s/options.js';
import { COPY_SENTINEL, GUARD_NAME, copyScript, guardScript } from '../k8s/scripts.js';
import { GiB, treeCopyDiskBytes, treeDiskBytes } from '../k8s/sizes.js';
import { copyTarget } from '../k8s/copy-target.js';
import { requireServerImage } from '../k8s/server-image.js';
import { writableMounts } from '../k8s/writable.js';

export type LaunchType = 'fargate' | 'ec2';
/** awsvpc: an ENI per task (Fargate's only mode); bridge: Docker's bridge with port mappings; host: the host's network. */
export const ECS_NETWORK_MODES = ['awsvpc', 'bridge', 'host'] as const;
export type EcsNetworkMode = (typeof ECS_NETWORK_MODES)[number];
/** k8s's `--volumes` as far as ECS goes: none runs the server image; init copies each tree (ECS has no image volumes). */
export const ECS_VOLUME_MODES = ['none', 'init'] as const;
export type EcsVolumeMode = (typeof ECS_VOLUME_MODES)[number];

/** CloudWatch Logs through the awslogs driver, for every container of the task. */
export interface EcsLogs {
  group: string;
  /** Default: the region of an ECR repository; required otherwise. */
  region?: string;
  /** Default: the game name; streams are `<prefix>/<container>/<task id>`. */
  streamPrefix?: string;
  /** Let the driver create the group (the execution role then needs logs:CreateLogGroup). */
  createGroup?: boolean;
}

/** The engine container's Docker health check (ECS replaces an unhealthy essential container's task). */
export interface EcsHealth {
  /** A shell command run in the container: exit 0 = healthy. */
  command: string;
  intervalSeconds?: number;
  timeoutSeconds?: number;
  retries?: number;
  startPeriodSeconds?: number;
}

export interface EcsOptions {
  family?: string;
  launchType: LaunchType;
  /** Task-level CPU units and memory MiB (Fargate needs a supported pair). */
  cpu: number;
  memory: number;
  /** Which of the config's platforms to run; default the first. */
  platform?: string;
  port: GamePort;
  /** Image layers, copies and this much scratch make up the task's ephemeral storage. */
  scratchBytes: number;
  /**
   * `uid:gid` of the engine: by default the Kubernetes specs' runAsUser/runAsGroup, so a task runs the game as the
   * pod does and not as the image's user (root on the usual bases). The copy containers run as root (COPY_USER).
   */
  engineUser: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  /** none: the server image alone, nothing copied (a tree at / needs it); init: copy containers (the default). */
  volumes: EcsVolumeMode;
  copyRoot: string;
  /** Default awsvpc; bridge and host only on EC2. */
  networkMode: EcsNetworkMode;
  /** bridge: the host port of the game port (0 or unset: ECS picks one). */
  hostPort?: number;
  logs?: EcsLogs;
  health?: EcsHealth;
  /** Seconds between SIGTERM and SIGKILL for the engine (Fargate: 2-120; ECS default 30). */
  stopTimeout?: number;
  /** The engine's environment (plain values: ECS has no downward API). */
  env?: { name: string; value: string }[];
  /** The engine container's CPU units (its share), memory (hard limit, MiB) and memoryReservation (soft, MiB). */
  engineCpu?: number;
  engineMemory?: number;
  engineMemoryReservation?: number;
  /** Ports beside the game port (a query or RCON port). */
  extraPorts?: { name: string; containerPort: number; protocol: GamePort['protocol'] }[];
  /** Health timings from gamelayer.yaml; a health check needs `health.command`, whose own timings win. */
  healthTimings?: Omit<EcsHealth, 'command'>;
  /** Unset: the engine's root file system stays writable. Set: it is read-only, and these folders are task volumes. */
  writablePaths?: string[];
}

export const DEFAULT_ECS_OPTIONS: EcsOptions = {
  launchType: 'fargate',
  cpu: 1024,
  memory: 2048,
  port: DEFAULT_K8S_OPTIONS.port,
  scratchBytes: 1 * GiB,
  engineUser: `${DEFAULT_K8S_OPTIONS.runAsUser}:${DEFAULT_K8S_OPTIONS.runAsGroup}`,
  volumes: 'init',
  copyRoot: '/mnt',
  networkMode: 'awsvpc',
};

/**
 * The copy containers' user, stated rather than left to the image: ECS creates a task volume root-owned, mode 0755,
 * and only its owner writes there with every capability dropped (no CAP_DAC_OVERRIDE needed, none added). They need
 * no CAP_CHOWN: the copies stay root's, 644/755 as the scan recorded, which the engine's user reads and runs.
 */
const COPY_USER = '0';
/** The container that opens the writable folders of a read-only engine to its user. */
const WRITABLE_CONTAINER = 'writable-paths';

export const FARGATE_MIN_EPHEMERAL_GIB = 21;
export const FARGATE_MAX_EPHEMERAL_GIB = 200;
/** What Fargate gives without asking. */
export const FARGATE_DEFAULT_EPHEMERAL_GIB = 20;

/**
 * Said with every Fargate task: what stands in for no-new-privileges (allowPrivilegeEscalation: false on Kubernetes,
 * dockerSecurityOptions on EC2), which Fargate refuses. The start guard sets it through setpriv; without the guard
 * (the server image, or a base with no shell to run it) nothing does.
 */
function fargateNoNewPrivilegesNote(guardless: string | undefined): string {
  const what = 'no-new-privileges (allowPrivilegeEscalation: false on Kubernetes, dockerSecurityOptions on EC2)';
  if (guardless === undefined) {
    return `Fargate refuses dockerSecurityOptions, so the start guard sets ${what}: it execs the engine through ` +
      'setpriv --no-new-privs where the engine image has setpriv (util-linux: Debian, Ubuntu; busybox) and says on ' +
      'stderr where it has not; the health check and ECS Exec run without it';
  }
  return `Fargate refuses dockerSecurityOptions and ${guardless}, so nothing sets ${what}: a setuid program in the ` +
    'engine image still changes its user, though with every capability dropped; use a base image without setuid ' +
    'programs, or --launch-type ec2';
}

export interface EcsEmission {
  taskDefinition: RegisterTaskDefinitionCommandInput;
  /** Bytes the task needs on its ephemeral storage, before rounding to GiB. */
  ephemeralBytes: number;
  notes: string[];
}

/**
 * The options as the task definition takes them, every value that needs no build checked (launch type, size, network
 * mode, ports, user, family, copy root, log group name, health check, the engine's share): the CLI checks them before
 * it looks for the registry and the build record, so a mistyped flag is said first.
 */
export function checkEcsOptions(partial: Partial<EcsOptions> = {}): EcsOptions {
  const o: EcsOptions = { ...DEFAULT_ECS_OPTIONS, ...partial };
  const fargate = o.launchType === 'fargate';
  if (o.launchType !== 'fargate' && o.launchType !== 'ec2') bad('--launch-type', o.launchType, 'fargate or ec2');
  if (fargate) checkFargateSize(o.cpu, o.memory);
  else {
    if (!Number.isInteger(o.cpu) || o.cpu < 128) bad('--cpu', o.cpu, 'CPU units ≥ 128 (1024 = one vCPU)');
    if (!Number.isInteger(o.memory) || o.memory < 128) bad('--memory', o.memory, 'MiB ≥ 128');
  }
  if (!(ECS_VOLUME_MODES as readonly string[]).includes(o.volumes)) bad('--volumes', o.volumes, `${ECS_VOLUME_MODES.join(' or ')} (ECS has no image volumes)`);
  if (!/^\d+(:\d+)?$/.test(o.engineUser)) bad('--user', o.engineUser, 'uid or uid:gid, such as 1000:1000');
  if (!(ECS_NETWORK_MODES as readonly string[]).includes(o.networkMode)) bad('--network-mode', o.networkMode, ECS_NETWORK_MODES.join(', '));
  if (fargate && o.networkMode !== 'awsvpc') bad('--network-mode', o.networkMode, 'awsvpc on Fargate (bridge and host need --launch-type ec2)');
  if (o.hostPort !== undefined) {
    if (o.networkMode !== 'bridge') bad('--host-port', o.hostPort, `nothing with --network-mode ${o.networkMode}: the host port is the container port there (only bridge maps ports)`);
    if (!Number.isInteger(o.hostPort) || o.hostPort < 0 || o.hostPort > 65535) bad('--host-port', o.hostPort, 'a port from 0 (ECS picks one) to 65535');
  }
  if (o.stopTimeout !== undefined) {
    const max = fargate ? 120 : 86_400;
    if (!Number.isInteger(o.stopTimeout) || o.stopTimeout < 2 || o.stopTimeout > max) bad('--stop-timeout', o.stopTimeout, `whole seconds from 2 to ${max}${fargate ? ' on Fargate' : ''}`);
  }
  // What RegisterTaskDefinition accepts as a family; the default (familyName) always fits.
  if (o.family !== undefined && !/^[A-Za-z0-9_-]{1,255}$/.test(o.family)) bad('--family', o.family, '1-255 letters, digits, "_" and "-" (ECS task definition family)');
  // A relative root would be a relative containerPath and copy target (k8s refuses it the same way).
  if (!o.copyRoot.startsWith('/') || o.copyRoot.split('/').includes('..')) bad('--copy-root', o.copyRoot, 'an absolute path such as /mnt');
  if (o.logs && !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(o.logs.group)) bad('--log-group', o.logs.group, 'a CloudWatch log group name: letters, digits and . - _ / #, at most 512');
  if (o.health) ecsHealthCheck(withTimings(o.health, o.healthTimings));
  checkEngineSize(o);
  return o;
}

export function ecsTaskDefinition(input: DeployInput, partial: Partial<EcsOptions> = {}): EcsEmission {
  const o = checkEcsOptions(partial);
  const fargate = o.launchType === 'fargate';
  const platform = o.platform ?? input.platforms[0] ?? 'linux/amd64';
  if (!input.platforms.includes(platform)) bad('--platform', platform, `one of the built platforms: ${input.platforms.join(', ')}`);
  const arch = ARCH[platform];
  if (!arch) bad('--platform', platform, `a platform ECS runs: ${Object.keys(ARCH).join(', ')}`);
  const logConfiguration = o.logs ? awslogs(o.logs, input, fargate) : undefined;
  const healthCheck = o.health ? ecsHealthCheck(withTimings(o.health, o.healthTimings)) : undefined;

  const engine = input.trees.find((t) => t.tree === 'engine')!;
  // The server image holds every tree at its mount: nothing to copy, nothing to guard.
  const serverImage = o.volumes === 'none' ? requireServerImage(input, '--volumes init').image : undefined;
  const engineImage = serverImage ?? engine.image;
  const copies = serverImage
    ? []
    : input.trees.filter((t) => t.tree !== 'engine').map((tree) => ({ tree, volume: `tree-${tree.tree}`, target: copyTarget(tree, o.copyRoot) }));

  const dropAll = { capabilities: { drop: ['ALL'] } };
  // k8s's allowPrivilegeEscalation: false. RegisterTaskDefinition refuses dockerSecurityOptions in a Fargate task
  // ("isn't valid for containers in tasks using the Fargate launch type") and offers nothing in its place, so there
  // the engine's start guard sets it (setpriv), and a note says what that covers.
  const noNewPrivileges = fargate ? {} : { dockerSecurityOptions: ['no-new-privileges'] };
  const copyContainers: ContainerDefinition[] = copies.map((c) => ({
    name: `copy-${c.tree.tree}`,
    image: c.tree.image,
    essential: false,
    user: COPY_USER,
    entryPoint: ['sh', '-c', copyScript(c.tree.tree, c.tree.mount, c.target, { chunked: c.tree.chunked })],
    mountPoints: [{ sourceVolume: c.volume, containerPath: c.target, readOnly: false }],
    readonlyRootFilesystem: true,
    linuxParameters: dropAll,
    ...noNewPrivileges,
    ...(logConfiguration ? { logConfiguration } : {}),
  }));
  // Task volumes, not tmpfs: Fargate refuses linuxParameters.tmpfs, and on EC2 a tmpfs would take the task's memory.
  const writable = o.writablePaths === undefined ? [] : writableMounts(o.writablePaths, input.trees);
  const writableContainers: ContainerDefinition[] = writable.length === 0 ? [] : [{
    // ECS makes a task volume root's, mode 0755: the engine's user (1000 by default) could not write there. Root owns
    // it, so it may chmod it with every capability dropped; 1777 as /tmp is.
    name: WRITABLE_CONTAINER,
    image: engineImage,
    essential: false,
    user: COPY_USER,
    entryPoint: ['sh', '-c', 'chmod 1777 "$@"', WRITABLE_CONTAINER, ...writable.map((w) => w.path)],
    mountPoints: writable.map((w) => ({ sourceVolume: w.volume, containerPath: w.path, readOnly: false })),
    readonlyRootFilesystem: true,
    linuxParameters: dropAll,
    ...noNewPrivileges,
    ...(logConfiguration ? { logConfiguration } : {}),
  }];
  const protocol = o.port.protocol.toLowerCase() as TransportProtocol;
  const engineContainer: ContainerDefinition = {
    name: 'engine',
    image: engineImage,
    essential: true,
    // The server image's own entrypoint is the start command: stated, so the task does not depend on the image config.
    ...(serverImage
      ? { entryPoint: input.start }
      : { entryPoint: ['sh', '-c', guardScript(copies.map((c) => `${c.tree.mount}/${COPY_SENTINEL}`), { noNewPrivileges: fargate }), GUARD_NAME], command: input.start }),
    workingDirectory: engine.mount,
    user: o.engineUser,
    ...(copyContainers.length + writableContainers.length > 0
      ? { dependsOn: [...copyContainers, ...writableContainers].map((c) => ({ containerName: c.name!, condition: 'SUCCESS' as const })) }
      : {}),
    mountPoints: [
      ...copies.map((c) => ({ sourceVolume: c.volume, containerPath: c.tree.mount, readOnly: false })),
      ...writable.map((w) => ({ sourceVolume: w.volume, containerPath: w.path, readOnly: false })),
    ],
    ...(o.writablePaths !== undefined ? { readonlyRootFilesystem: true } : {}),
    ...(o.engineCpu !== undefined ? { cpu: o.engineCpu } : {}),
    ...(o.engineMemory !== undefined ? { memory: o.engineMemory } : {}),
    ...(o.engineMemoryReservation !== undefined ? { memoryReservation: o.engineMemoryReservation } : {}),
    ...(o.env?.length ? { environment: o.env.map((e) => ({ name: e.name, value: e.value })) } : {}),
    portMappings: [
      portMapping(o, protocol),
      ...(o.extraPorts ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol.toLowerCase() as TransportProtocol })),
    ],
    linuxParameters: { ...dropAll, initProcessEnabled: true },
    ...noNewPrivileges,
    ...(logConfiguration ? { logConfiguration } : {}),
    ...(healthCheck ? { healthCheck } : {}),
    ...(o.stopTimeout !== undefined ? { stopTimeout: o.stopTimeout } : {}),
    dockerLabels: labels(input),
  };

  // Fargate keeps the extracted image layers on the same storage as the volumes: count both. The server image holds
  // the same four trees' layers as the tree images do.
  const imagesBytes = input.trees.reduce((s, t) => s + treeDiskBytes(t), 0);
  const copiesBytes = copies.reduce((s, c) => s + treeCopyDiskBytes(c.tree), 0);
  const ephemeralBytes = imagesBytes + copiesBytes + o.scratchBytes;
  const notes: string[] = [];
  let ephemeralStorage: { sizeInGiB: number } | undefined;
  if (fargate) {
    const gib = Math.ceil(ephemeralBytes / GiB);
    if (gib > FARGATE_MAX_EPHEMERAL_GIB) {
      throw new GamelayerError(
        'deploy.ecs-storage',
        `the task needs ${gib} GiB of ephemeral storage (images ${fmtGiB(imagesBytes)}, copies ${fmtGiB(copiesBytes)}, ` +
          `scratch ${fmtGiB(o.scratchBytes)}); Fargate offers at most ${FARGATE_MAX_EPHEMERAL_GIB} GiB`,
        'run on the EC2 launch type (--launch-type ec2) or mount the media from EFS',
      );
    }
    if (gib > FARGATE_DEFAULT_EPHEMERAL_GIB) ephemeralStorage = { sizeInGiB: Math.max(gib, FARGATE_MIN_EPHEMERAL_GIB) };
    else notes.push(`the task needs ${gib} GiB of ephemeral storage: Fargate's default ${FARGATE_DEFAULT_EPHEMERAL_GIB} GiB is enough`);
  }
  // As k8s says it (k8s/pod.ts): a task that cannot start should not be written without a word.
  if (input.baseImage === 'scratch' && (!serverImage || writable.length > 0)) {
    const what = serverImage ? 'the server image has no sh or chmod, so the writable-paths container cannot run' : 'the tree images have no sh or cp, so the copy containers and the start guard cannot run';
    notes.push(`baseImage is scratch: ${what}; set baseImage in gamelayer.yaml to an image with a POSIX shell (busybox, debian-slim, ...)`);
  }
  if (o.healthTimings && !o.health) {
    notes.push('deploy.agones.health: an ECS health check needs a command; pass --health-cmd to use these timings');
  }
  if (fargate) {
    const guardless = serverImage
      ? '--volumes none runs the server image without the start guard'
      : input.baseImage === 'scratch' ? 'a scratch base has no shell to run the start guard' : undefined;
    notes.push(fargateNoNewPrivilegesNote(guardless));
  }
  if (fargate && !o.logs) {
    notes.push('no log configuration: on Fargate the game\'s output goes nowhere; pass --log-group (CloudWatch Logs through awslogs)');
  }
  if (!o.executionRoleArn && /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(input.repository)) {
    notes.push('the images are in ECR: pass --execution-role-arn (a role with AmazonECSTaskExecutionRolePolicy) or the task cannot pull them');
  }

  const taskDefinition: RegisterTaskDefinitionCommandInput = {
    family: o.family ?? familyName(input.game),
    ...(o.taskRoleArn ? { taskRoleArn: o.taskRoleArn } : {}),
    ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
    networkMode: o.networkMode as NetworkMode,
    requiresCompatibilities: [fargate ? 'FARGATE' : 'EC2'],
    cpu: String(o.cpu),
    memory: String(o.memory),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: arch },
    ...(ephemeralStorage ? { ephemeralStorage } : {}),
    volumes: [...copies.map((c) => ({ name: c.volume })), ...writable.map((w) => ({ name: w.volume }))],
    containerDefinitions: [...copyContainers, ...writableContainers, engineContainer],
    tags: Object.entries(labels(input)).map(([key, value]) => ({ key, value })),
  };
  return { taskDefinition, ephemeralBytes, notes };
}

/**
 * The game port: awsvpc and host mode publish the container port itself (a host port, if given, must equal it, so
 * none is written); bridge maps it to `hostPort` (0 or unset: dynamic, the usual choice with several tasks a host).
 */
function portMapping(o: EcsOptions, protocol: TransportProtocol): PortMapping {
  return {
    name: 'game',
    containerPort: o.port.containerPort,
    ...(o.networkMode === 'bridge' && o.hostPort !== undefined ? { hostPort: o.hostPort } : {}),
    protocol,
  };
}

function awslogs(logs: EcsLogs, input: DeployInput, fargate: boolean): LogConfiguration {
  // Its name is checked with the other options (checkEcsOptions).
  const host = input.repository.slice(0, input.repository.indexOf('/'));
  const region = logs.region ?? parseEcrHost(host)?.region;
  if (!region) {
    // --log-region was not given (a given one is used as it is): say what is missing, not that a flag was wrong.
    throw new GamelayerError(
      'deploy.option',
      `--log-group ${logs.group}: the log group's region is unknown (the repository ${input.repository} is not an ECR repository, which would name it)`,
      'pass --log-region REGION',
    );
  }
  const prefix = logs.streamPrefix ?? familyName(input.game);
  if (fargate && !prefix) bad('--log-stream-prefix', prefix, 'a prefix (Fargate requires one)');
  return {
    logDriver: 'awslogs',
    options: {
      'awslogs-group': logs.group,
      'awslogs-region': region,
      'awslogs-stream-prefix': prefix,
      ...(logs.createGroup ? { 'awslogs-create-group': 'true' } : {}),
    },
  };
}

/** Timings given on the command line win over those from gamelayer.yaml. */
function withTimings(h: EcsHealth, t: EcsOptions['healthTimings']): EcsHealth {
  return {
    command: h.command,
    intervalSeconds: h.intervalSeconds ?? t?.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds ?? t?.timeoutSeconds,
    retries: h.retries ?? t?.retries,
    startPeriodSeconds: h.startPeriodSeconds ?? t?.startPeriodSeconds,
  };
}

/** ECS refuses a container that asks for more than its task has. */
function checkEngineSize(o: EcsOptions): void {
  const hint = 'raise the task size (--cpu, --memory) or lower deploy.resources in gamelayer.yaml';
  if (o.engineCpu !== undefined && o.engineCpu > o.cpu) {
    throw new GamelayerError('deploy.option', `deploy.resources cpu: the engine's ${o.engineCpu} CPU units exceed the task's ${o.cpu}`, hint);
  }
  for (const [field, mib] of [['limits', o.engineMemory], ['requests', o.engineMemoryReservation]] as const) {
    if (mib !== undefined && mib > o.memory) {
      throw new GamelayerError('deploy.option', `deploy.resources.${field}.memory: the engine's ${mib} MiB exceed the task's ${o.memory} MiB`, hint);
    }
  }
  if (o.engineMemory !== undefined && o.engineMemoryReservation !== undefined && o.engineMemoryReservation > o.engineMemory) {
    throw new GamelayerError('deploy.option', `deploy.resources: the memory request (${o.engineMemoryReservation} MiB) exceeds the limit (${o.engineMemory} MiB)`, hint);
  }
}

/** ECS's limits: interval 5-300 s, timeout 2-60 s, retries 1-10, start period 0-300 s. */
function ecsHealthCheck(h: EcsHealth): HealthCheck {
  if (!h.command.trim()) bad('--health-cmd', h.command, 'a shell command');
  const range = (flag: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) bad(flag, v, `whole seconds (or times) from ${min} to ${max}`);
  };
  range('--health-interval', h.intervalSeconds, 5, 300);
  range('--health-timeout', h.timeoutSeconds, 2, 60);
  range('--health-retries', h.retries, 1, 10);
  range('--health-start-period', h.startPeriodSeconds, 0, 300);
  return {
    command: ['CMD-SHELL', h.command],
    interval: h.intervalSeconds ?? 30,
    timeout: h.timeoutSeconds ?? 5,
    retries: h.retries ?? 3,
    ...(h.startPeriodSeconds !== undefined ? { startPeriod: h.startPeriodSeconds } : {}),
  };
}

export function ecsJson(emission: EcsEmission): string {
  return `${JSON.stringify(emission.taskDefinition, null, 2)}\n`;
}

const ARCH: Record<string, CPUArchitecture> = { 'linux/amd64': 'X86_64', 'linux/arm64': 'ARM64' };

function labels(input: DeployInput): Record<string, string> {
  const l: Record<string, string> = { 'gamelayer.game': input.game };
  if (input.version !== undefined) l['gamelayer.version'] = input.version;
  l['gamelayer.tag'] = input.tag;
  // The commit CodeBuild built (the record's, never an image label: a docs-only commit gives the same images).
  if (input.revision !== undefined) l['gamelayer.revision'] = input.revision;
  for (const t of input.trees) {
    l[`gamelayer.tree.${t.tree}`] = Object.entries(t.treeDigests)
      .map(([p, d]) => (p === '*' ? d : `${p}=${d}`))
      .join(' '); // ECS tag values allow no comma
  }
  return l;
}

function familyName(game: string): string {
  return game.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 255);
}

/** Fargate's supported task sizes (CPU units → memory MiB range and step). */
const FARGATE_SIZES: Record<number, { min: number; max: number; step: number; extra?: number[] }> = {
  256: { min: 1024, max: 2048, step: 1024, extra: [512] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/**
 * The task size for an engine of `cpu` units and `memory` MiB when none was given: the defaults (1024 units, 2048
 * MiB) when they hold it; else on Fargate the smallest supported pair that does (the fewest CPU units, then the least
 * memory on that size's steps), on EC2 the engine's own figures. undefined: beyond Fargate's largest size.
 */
export function fitTaskSize(engine: { cpu?: number; memory?: number }, launchType: LaunchType): { cpu: number; memory: number } | undefined {
  const cpu = Math.max(DEFAULT_ECS_OPTIONS.cpu, engine.cpu ?? 0);
  const memory = Math.max(DEFAULT_ECS_OPTIONS.memory, engine.memory ?? 0);
  if (launchType !== 'fargate') return { cpu, memory };
  for (const [units, size] of Object.entries(FARGATE_SIZES).map(([u, s]) => [Number(u), s] as const).sort((a, b) => a[0] - b[0])) {
    if (units < cpu) continue;
    const fits = size.min >= memory ? size.min : size.min + Math.ceil((memory - size.min) / size.step) * size.step;
    if (fits <= size.max) return { cpu: units, memory: fits };
  }
  return undefined;
}

function checkFargateSize(cpu: number, memory: number): void {
  const size = FARGATE_SIZES[cpu];
  if (!size) bad('--cpu', cpu, `a Fargate CPU size: ${Object.keys(FARGATE_SIZES).join(', ')}`);
  const ok =
    size.extra?.includes(memory) ||
    (Number.isInteger(memory) && memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0);
  if (!ok) {
    bad('--memory', memory, `for --cpu ${cpu} on Fargate: ${size.min}-${size.max} MiB in steps of ${size.step}${size.extra ? ` or ${size.extra.join(', ')}` : ''}`);
  }
}

function fmtGiB(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function bad(flag: string, value: unknown, expected: string): never {
  throw new GamelayerError('deploy.option', `${flag}: got ${JSON.stringify(value) ?? 'nothing'}; expected ${expected}`);
}
