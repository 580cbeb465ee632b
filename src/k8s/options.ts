// Knobs of the emitted workloads, their defaults, and the checks that keep a bad value out of the YAML.
import { ENV_NAME_EXPECTED, LABEL_KEY_EXPECTED, LABEL_VALUE_EXPECTED, SUBDOMAIN_EXPECTED, isDnsSubdomain, isEnvName, isLabelKey, isLabelValue } from '../config/k8s-names.js';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { writablePathsOf, type DeployConfig, type PodScheduling } from '../config/deploy.js';
import { GamelayerError } from '../errors.js';
import { parseSize } from '../config/schema.js';
import { compareQuantities, parseQuantity } from '../config/quantity.js';
import { GiB } from './sizes.js';

export const WORKLOAD_KINDS = ['pod', 'deployment', 'gameserver', 'fleet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
/**
 * none: the server image as the one container (no copies, no volumes); init: init containers copy each tree image
 * into an emptyDir; image: Kubernetes image volumes.
 */
export const VOLUME_MODES = ['none', 'init', 'image'] as const;
export type VolumeMode = (typeof VOLUME_MODES)[number];
/** The modes that deliver trees as separate volumes (one per non-engine tree). */
export const TREE_VOLUME_MODES = ['init', 'image'] as const satisfies readonly VolumeMode[];
/**
 * digest: `<repository>@sha256:…`, so identical content under a new tag gives byte-identical pod templates and
 * nothing rolls; tag: `<repository>:<tag>-<tree>@sha256:…` (the tag for people, ignored by the runtime).
 */
export const REF_STYLES = ['digest', 'tag'] as const;
export type RefStyle = (typeof REF_STYLES)[number];
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const PORT_POLICIES = ['Dynamic', 'Static', 'Passthrough', 'None'] as const;
export type PortPolicy = (typeof PORT_POLICIES)[number];
export type Protocol = 'UDP' | 'TCP';

export interface GamePort {
  containerPort: number;
  protocol: Protocol;
}

/** A port beside the game port (a query or RCON port, say); Agones gives it its own policy. */
export interface ExtraPort extends GamePort {
  name: string;
  portPolicy?: PortPolicy;
  hostPort?: number;
}

/** Pod-level scheduling settings: the config's deploy section and the k8s options share one definition. */
export type { PodScheduling };

export interface ContainerResources {
  cpu: string;
  memory: string;
  /** Unset: no CPU limit (throttling a game server costs more than sharing idle CPU). */
  cpuLimit?: string;
}

export interface K8sOptions {
  kind: WorkloadKind;
  volumes: VolumeMode;
  /** metadata.name; default: the game name made DNS-safe. */
  name?: string;
  namespace?: string;
  /**
   * Always: the kubelet asks the registry for the digest on every start (cheap: a HEAD), and containerd still skips
   * every layer it already has, so only changed layers travel. IfNotPresent saves that round trip and works when
   * the registry is down, at the price of trusting whatever the node holds under that digest (which is safe: digests
   * are content addresses).
   */
  pullPolicy: PullPolicy;
  replicas: number;
  port: GamePort;
  /** Agones only. */
  portPolicy: PortPolicy;
  /** Agones only; required by portPolicy Static. */
  hostPort?: number;
  /** Agones health checking: the game must call the Agones SDK's Health() or the GameServer turns Unhealthy. */
  health: { disabled: boolean; initialDelaySeconds: number; periodSeconds: number; failureThreshold: number };
  engine: ContainerResources;
  copy: ContainerResources;
  /** Writable space the engine may use beside the copied trees (logs, saves, core files). */
  scratchBytes: number;
  /** 0 runs as root (runAsNonRoot is then left out); anything else is enforced with runAsNonRoot. */
  runAsUser: number;
  runAsGroup: number;
  /** Copy containers mount their target volume under this directory: `/mnt/<tree>`. */
  copyRoot: string;
  /** How pod templates name images (see REF_STYLES). */
  refs: RefStyle;
  /** Name of the game port (Agones: its GameServer port name). */
  portName?: string;
  extraPorts: ExtraPort[];
  scheduling: PodScheduling;
  /** Fleet scheduling. */
  fleetScheduling: 'Packed' | 'Distributed';
  /** Environment of the engine container. */
  env: IEnvVar[];
  /** Merged over the computed requests and limits of the engine / the copy containers, key by key. */
  engineResources?: IResourceRequirements;
  copyResources?: IResourceRequirements;
  /** Unset: the engine's root file system stays writable. Set: it is read-only, and these folders are emptyDirs. */
  writablePaths?: string[];
}

export const DEFAULT_K8S_OPTIONS: K8sOptions = {
  kind: 'pod',
  volumes: 'init',
  pullPolicy: 'Always',
  replicas: 1,
  port: { containerPort: 7777, protocol: 'UDP' },
  portPolicy: 'Dynamic',
  health: { disabled: false, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
  engine: { cpu: '1', memory: '2Gi' },
  copy: { cpu: '250m', memory: '128Mi' },
  scratchBytes: 1 * GiB,
  runAsUser: 1000,
  runAsGroup: 1000,
  copyRoot: '/mnt',
  refs: 'digest',
  extraPorts: [],
  scheduling: {},
  fleetScheduling: 'Packed',
  env: [],
};

/**
 * The options gamelayer.yaml's deploy section gives (already checked against the schemas by the config loader);
 * CLI flags go over them.
 */
export function k8sOptionsFromConfig(deploy: DeployConfig | undefined): Partial<K8sOptions> {
  if (!deploy) return {};
  const o: Partial<K8sOptions> = {};
  if (deploy.volumes) o.volumes = deploy.volumes;
  const scheduling: PodScheduling = {};
  for (const k of ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'serviceAccountName', 'terminationGracePeriodSeconds'] as const) {
    if (deploy[k] !== undefined) (scheduling as Record<string, unknown>)[k] = structuredClone(deploy[k]);
  }
  if (Object.keys(scheduling).length > 0) o.scheduling = scheduling;
  if (deploy.env) o.env = structuredClone(deploy.env);
  if (deploy.resources) o.engineResources = structuredClone(deploy.resources);
  if (deploy.copyResources) o.copyResources = structuredClone(deploy.copyResources);
  const [game, ...extra] = deploy.ports ?? [];
  if (game) {
    o.port = { containerPort: game.containerPort, protocol: game.protocol };
    if (game.name) o.portName = game.name;
    if (game.hostPort !== undefined) o.hostPort = game.hostPort;
    if (game.portPolicy) o.portPolicy = game.portPolicy;
  }
  o.extraPorts = extra.map((p, i) => ({
    name: p.name ?? `port-${i + 2}`,
    containerPort: p.containerPort,
    protocol: p.protocol,
    ...(p.portPolicy ? { portPolicy: p.portPolicy } : {}),
    ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}),
  }));
  if (deploy.agones?.portPolicy && !game?.portPolicy) o.portPolicy = deploy.agones.portPolicy;
  if (deploy.agones?.scheduling) o.fleetScheduling = deploy.agones.scheduling;
  const h = deploy.agones?.health;
  if (h) o.health = { ...DEFAULT_K8S_OPTIONS.health, ...h, disabled: h.disabled ?? false };
  const writable = writablePathsOf(deploy);
  if (writable) o.writablePaths = writable;
  return o;
}

/** Config options, then flags over them: nested scheduling merges key by key, lists are replaced. */
export function mergeK8sOptions(base: Partial<K8sOptions>, over: Partial<K8sOptions>): Partial<K8sOptions> {
  return {
    ...base,
    ...over,
    ...(base.scheduling || over.scheduling ? { scheduling: { ...base.scheduling, ...over.scheduling } } : {}),
    ...(base.env || over.env ? { env: [...(base.env ?? []).filter((e) => !over.env?.some((x) => x.name === e.name)), ...(over.env ?? [])] } : {}),
  };
}

const QUANTITY = /^(\d+(\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether `request` (checked against QUANTITY) is above `limit`, compared exactly (`700m` is `0.7`, not above). */
function above(request: string, limit: string): boolean {
  return compareQuantities(parseQuantity(request)!, parseQuantity(limit)!) > 0;
}

/**
 * The volume mode when none is asked for, per kind; chosen from the pod start figures in docs/deploy.md
 * ("Choosing --volumes").
 */
export const DEFAULT_VOLUMES: Record<WorkloadKind, VolumeMode> = {
  // A bare pod is the kind for a first look and for run-local: it shows every tree image delivered and checked.
  pod: 'init',
  // Replicas that start again and again (Agones replaces a GameServer's pod after each session): no copies.
  deployment: 'none',
  gameserver: 'none',
  fleet: 'none',
};

/** Merges partial options over the defaults and checks them; errors name the option. */
const INT32_MAX = 2 ** 31 - 1;

export function k8sOptions(partial: Partial<K8sOptions> = {}): K8sOptions {
  const kind = partial.kind ?? DEFAULT_K8S_OPTIONS.kind;
  const o: K8sOptions = {
    ...DEFAULT_K8S_OPTIONS,
    ...partial,
    volumes: partial.volumes ?? DEFAULT_VOLUMES[kind] ?? DEFAULT_K8S_OPTIONS.volumes,
    port: { ...DEFAULT_K8S_OPTIONS.port, ...partial.port },
    health: { ...DEFAULT_K8S_OPTIONS.health, ...partial.health },
    engine: { ...DEFAULT_K8S_OPTIONS.engine, ...partial.engine },
    copy: { ...DEFAULT_K8S_OPTIONS.copy, ...partial.copy },
    scheduling: { ...partial.scheduling },
  };
  oneOf('--kind', o.kind, WORKLOAD_KINDS);
  oneOf('--volumes', o.volumes, VOLUME_MODES);
  oneOf('--pull-policy', o.pullPolicy, PULL_POLICIES);
  oneOf('--refs', o.refs, REF_STYLES);
  oneOf('--port-policy', o.portPolicy, PORT_POLICIES);
  if (o.name !== undefined && (o.name.length > 63 || !DNS_LABEL.test(o.name))) {
    bad('--name', o.name, 'a DNS label: lower-case letters, digits and "-", at most 63 characters');
  }
  if (o.namespace !== undefined && (o.namespace.length > 63 || !DNS_LABEL.test(o.namespace))) {
    bad('--namespace', o.namespace, 'a DNS label: lower-case letters, digits and "-", at most 63 characters');
  }
  // Kubernetes counts replicas and ids in int32: a larger value is refused by the API server at apply time.
  if (!Number.isInteger(o.replicas) || o.replicas < 0 || o.replicas > INT32_MAX) bad('--replicas', o.replicas, `a whole number from 0 to ${INT32_MAX}`);
  checkPort('--port', o.port.containerPort);
  if (o.hostPort !== undefined) checkPort('--host-port', o.hostPort);
  if (o.portPolicy === 'Static' && o.hostPort === undefined && (o.kind === 'gameserver' || o.kind === 'fleet')) {
    bad('--host-port', undefined, 'a port: portPolicy Static needs a host port');
  }
  // Agones keeps a host port only for a Static port: the spec silently lost it otherwise.
  if (o.hostPort !== undefined && o.portPolicy !== 'Static' && (o.kind === 'gameserver' || o.kind === 'fleet')) {
    bad('--host-port', o.hostPort, `--port-policy Static: Agones uses a host port only there (this port is ${o.portPolicy})`);
  }
  for (const [flag, q] of [
    ['--cpu', o.engine.cpu],
    ['--memory', o.engine.memory],
    ['--cpu-limit', o.engine.cpuLimit],
    ['--copy-cpu', o.copy.cpu],
    ['--copy-memory', o.copy.memory],
    ['--copy-cpu-limit', o.copy.cpuLimit],
  ] as const) {
    if (q !== undefined && !QUANTITY.test(q)) bad(flag, q, 'a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi');
  }
  // The API server refuses a container whose request is above its limit: found here, by the run that writes it.
  for (const [flag, request, limit, requestFlag] of [
    ['--cpu-limit', o.engine.cpu, o.engine.cpuLimit, '--cpu'],
    ['--copy-cpu-limit', o.copy.cpu, o.copy.cpuLimit, '--copy-cpu'],
  ] as const) {
    if (limit !== undefined && above(request, limit)) {
      bad(flag, limit, `at least the CPU request (${requestFlag} ${request}): Kubernetes refuses a request above its limit`);
    }
  }
  if (!Number.isInteger(o.scratchBytes) || o.scratchBytes < 0) bad('--scratch', o.scratchBytes, 'a size such as 1GiB');
  for (const [flag, id] of [['--uid', o.runAsUser], ['--gid', o.runAsGroup]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > INT32_MAX) bad(flag, id, `a numeric id from 0 to ${INT32_MAX}`);
  }
  for (const p of o.extraPorts) checkPort(`port ${p.name}`, p.containerPort);
  const portNames = [o.portName ?? 'game', ...o.extraPorts.map((p) => p.name)];
  if (new Set(portNames).size !== portNames.length) bad('ports', portNames.join(', '), 'distinct port names');
  const grace = o.scheduling.terminationGracePeriodSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) bad('--grace-period', grace, 'a whole number of seconds ≥ 0');
  // Checked here, not left to the API server: a spec refused at apply time (or a bidi character making a key read as
  // another) is found by the run that wrote it.
  for (const [k, v] of Object.entries(o.scheduling.nodeSelector ?? {})) {
    if (!k || typeof v !== 'string') bad('--node-selector', `${k}=${String(v)}`, 'KEY=VALUE');
    if (!isLabelKey(k)) bad('--node-selector', `${k}=${v}`, LABEL_KEY_EXPECTED);
    if (!isLabelValue(v)) bad('--node-selector', `${k}=${v}`, LABEL_VALUE_EXPECTED);
  }
  const account = o.scheduling.serviceAccountName;
  if (account !== undefined && !isDnsSubdomain(account)) bad('--service-account', account, SUBDOMAIN_EXPECTED);
  const priority = o.scheduling.priorityClassName;
  if (priority !== undefined && !isDnsSubdomain(priority)) bad('--priority-class', priority, SUBDOMAIN_EXPECTED);
  for (const e of o.env) {
    if (!e.name) bad('--env', e, 'NAME=VALUE');
    // Kubernetes' rule for env names (1.30 on): printable ASCII, no "=". A zero-width character made a name read as
    // another and the spec was refused at apply time.
    if (!isEnvName(e.name)) bad('--env', e.name, ENV_NAME_EXPECTED);
  }
  if (!o.copyRoot.startsWith('/') || o.copyRoot.split('/').includes('..')) {
    bad('--copy-root', o.copyRoot, 'an absolute path such as /mnt');
  }
  return o;
}

/** `1GiB`, `512MiB`, `0` → bytes, for the CLI's size flags. */
export function sizeOption(flag: string, value: string): number {
  if (value.trim() === '0') return 0;
  const n = parseSize(value);
  if (n === undefined) bad(flag, value, 'a size such as 512MiB, 2GiB or a byte count');
  return n;
}

/** `7777`, `7777/udp`, `27015/TCP` → port and protocol. */
export function portOption(flag: string, value: string): GamePort {
  const m = /^(\d+)(?:\/(udp|tcp))?$/i.exec(value.trim());
  if (!m) bad(flag, value, 'PORT or PORT/udp or PORT/tcp, such as 7777/udp');
  const containerPort = Number(m[1]);
  checkPort(flag, containerPort);
  return { containerPort, protocol: (m[2] ?? 'udp').toUpperCase() as Protocol };
}

/** `KEY=VALUE` (the value may be empty or hold `=`). */
export function keyValueOption(flag: string, value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) bad(flag, value, 'KEY=VALUE');
  return [value.slice(0, eq), value.slice(eq + 1)];
}

/**
 * A repeatable KEY=VALUE flag: one entry per key, in order. A key given twice with different values is an error: the
 * spec kept the last one (--node-selector) or both, the container seeing the last (--env), without a word.
 */
export function keyValueOptions(flag: string, values: string[]): [string, string][] {
  const out = new Map<string, string>();
  for (const v of values) {
    const [k, value] = keyValueOption(flag, v);
    const before = out.get(k);
    if (before !== undefined && before !== value) bad(flag, `${k}=${before}, ${k}=${value}`, 'one value for each key');
    out.set(k, value);
  }
  return [...out];
}

export function integerOption(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) bad(flag, value, 'a whole number ≥ 0');
  return Number(value);
}

function checkPort(flag: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad(flag, port, 'a port from 1 to 65535');
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): void {
  if (!(allowed as readonly string[]).includes(value)) bad(flag, value, `one of ${allowed.join(', ')}`);
}

function bad(flag: string, value: unknown, expected: string): never {
  throw new GamelayerError('deploy.option', `${flag}: got ${JSON.stringify(value) ?? 'nothing'}; expected ${expected}`);
}
