// An ECS task definition for the game: non-essential copy containers fill task volumes, the engine container waits
// for each to exit successfully (dependsOn SUCCESS) and checks their sentinels before it starts.
import type {
  ContainerDefinition,
  CPUArchitecture,
  RegisterTaskDefinitionCommandInput,
  TransportProtocol,
} from '@aws-sdk/client-ecs';
import { GamelayerError } from '../errors.js';
import type { DeployInput } from '../k8s/input.js';
import { DEFAULT_K8S_OPTIONS, type GamePort } from '../k8s/options.js';
import { COPY_SENTINEL, GUARD_NAME, copyScript, guardScript } from '../k8s/scripts.js';
import { GiB, treeDiskBytes } from '../k8s/sizes.js';

export type LaunchType = 'fargate' | 'ec2';

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
  /** `uid:gid` of the engine; the copy containers run as the image's user (ECS creates task volumes root-owned). */
  engineUser?: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  copyRoot: string;
}

export const DEFAULT_ECS_OPTIONS: EcsOptions = {
  launchType: 'fargate',
  cpu: 1024,
  memory: 2048,
  port: DEFAULT_K8S_OPTIONS.port,
  scratchBytes: 1 * GiB,
  copyRoot: '/mnt',
};

export const FARGATE_MIN_EPHEMERAL_GIB = 21;
export const FARGATE_MAX_EPHEMERAL_GIB = 200;
/** What Fargate gives without asking. */
export const FARGATE_DEFAULT_EPHEMERAL_GIB = 20;

export interface EcsEmission {
  taskDefinition: RegisterTaskDefinitionCommandInput;
  /** Bytes the task needs on its ephemeral storage, before rounding to GiB. */
  ephemeralBytes: number;
  notes: string[];
}

export function ecsTaskDefinition(input: DeployInput, partial: Partial<EcsOptions> = {}): EcsEmission {
  const o: EcsOptions = { ...DEFAULT_ECS_OPTIONS, ...partial };
  const fargate = o.launchType === 'fargate';
  if (o.launchType !== 'fargate' && o.launchType !== 'ec2') bad('--launch-type', o.launchType, 'fargate or ec2');
  if (fargate) checkFargateSize(o.cpu, o.memory);
  else {
    if (!Number.isInteger(o.cpu) || o.cpu < 128) bad('--cpu', o.cpu, 'CPU units ≥ 128 (1024 = one vCPU)');
    if (!Number.isInteger(o.memory) || o.memory < 128) bad('--memory', o.memory, 'MiB ≥ 128');
  }
  const platform = o.platform ?? input.platforms[0] ?? 'linux/amd64';
  if (!input.platforms.includes(platform)) bad('--platform', platform, `one of the built platforms: ${input.platforms.join(', ')}`);
  const arch = ARCH[platform];
  if (!arch) bad('--platform', platform, `a platform ECS runs: ${Object.keys(ARCH).join(', ')}`);
  if (o.engineUser !== undefined && !/^\d+(:\d+)?$/.test(o.engineUser)) bad('--user', o.engineUser, 'uid or uid:gid, such as 1000:1000');

  const engine = input.trees.find((t) => t.tree === 'engine')!;
  const copies = input.trees
    .filter((t) => t.tree !== 'engine')
    .map((tree) => ({ tree, volume: `tree-${tree.tree}`, target: `${o.copyRoot === '/' ? '' : o.copyRoot}/${tree.tree}` }));
  for (const c of copies) {
    const clash = input.trees.find((t) => c.target === t.mount || c.target.startsWith(`${t.mount}/`) || t.mount.startsWith(`${c.target}/`));
    if (clash) {
      throw new GamelayerError(
        'deploy.copy-target',
        `copy target ${c.target} of tree ${c.tree.tree} overlaps the mount ${clash.mount} of tree ${clash.tree}`,
        'pass --copy-root with a directory outside every tree mount',
      );
    }
  }

  const dropAll = { capabilities: { drop: ['ALL'] } };
  const copyContainers: ContainerDefinition[] = copies.map((c) => ({
    name: `copy-${c.tree.tree}`,
    image: c.tree.image,
    essential: false,
    entryPoint: ['sh', '-c', copyScript(c.tree.tree, c.tree.mount, c.target)],
    mountPoints: [{ sourceVolume: c.volume, containerPath: c.target, readOnly: false }],
    readonlyRootFilesystem: true,
    linuxParameters: dropAll,
  }));
  const protocol = o.port.protocol.toLowerCase() as TransportProtocol;
  const engineContainer: ContainerDefinition = {
    name: 'engine',
    image: engine.image,
    essential: true,
    entryPoint: ['sh', '-c', guardScript(copies.map((c) => `${c.tree.mount}/${COPY_SENTINEL}`)), GUARD_NAME],
    command: input.start,
    workingDirectory: engine.mount,
    ...(o.engineUser ? { user: o.engineUser } : {}),
    dependsOn: copyContainers.map((c) => ({ containerName: c.name!, condition: 'SUCCESS' as const })),
    mountPoints: copies.map((c) => ({ sourceVolume: c.volume, containerPath: c.tree.mount, readOnly: false })),
    portMappings: [{ name: 'game', containerPort: o.port.containerPort, protocol }],
    linuxParameters: { ...dropAll, initProcessEnabled: true },
    dockerLabels: labels(input),
  };

  // Fargate keeps the extracted image layers on the same storage as the volumes: count both.
  const imagesBytes = input.trees.reduce((s, t) => s + treeDiskBytes(t), 0);
  const copiesBytes = copies.reduce((s, c) => s + treeDiskBytes(c.tree), 0);
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
  if (!o.executionRoleArn && /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(input.repository)) {
    notes.push('the images are in ECR: pass --execution-role-arn (a role with AmazonECSTaskExecutionRolePolicy) or the task cannot pull them');
  }

  const taskDefinition: RegisterTaskDefinitionCommandInput = {
    family: o.family ?? familyName(input.game),
    ...(o.taskRoleArn ? { taskRoleArn: o.taskRoleArn } : {}),
    ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
    networkMode: 'awsvpc',
    requiresCompatibilities: [fargate ? 'FARGATE' : 'EC2'],
    cpu: String(o.cpu),
    memory: String(o.memory),
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: arch },
    ...(ephemeralStorage ? { ephemeralStorage } : {}),
    volumes: copies.map((c) => ({ name: c.volume })),
    containerDefinitions: [...copyContainers, engineContainer],
    tags: Object.entries(labels(input)).map(([key, value]) => ({ key, value })),
  };
  return { taskDefinition, ephemeralBytes, notes };
}

export function ecsJson(emission: EcsEmission): string {
  return `${JSON.stringify(emission.taskDefinition, null, 2)}\n`;
}

const ARCH: Record<string, CPUArchitecture> = { 'linux/amd64': 'X86_64', 'linux/arm64': 'ARM64' };

function labels(input: DeployInput): Record<string, string> {
  const l: Record<string, string> = { 'gamelayer.game': input.game };
  if (input.version !== undefined) l['gamelayer.version'] = input.version;
  l['gamelayer.tag'] = input.tag;
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
  throw new GamelayerError('deploy.option', `${flag}: got ${JSON.stringify(value)}; expected ${expected}`);
}
