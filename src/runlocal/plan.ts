// What `gamelayer run-local` runs, read back from the pod spec `k8sWorkload` emits: one Docker volume per pod
// volume, each init container in order, then the engine, with the pod's commands, mounts and security settings
// translated to what the Docker Engine API can express. Pure data; src/runlocal/execute.ts runs it.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { ceilQuantity, parseQuantity, type Quantity } from '../config/quantity.js';
import { GamelayerError } from '../errors.js';
import { ENGINE_CONTAINER } from '../k8s/pod.js';
import { GUARD_NAME } from '../k8s/scripts.js';
import type { K8sEmission } from '../k8s/workloads.js';

export interface PlannedMount {
  /** Pod volume name. */
  volume: string;
  target: string;
  readOnly: boolean;
}

export interface PlannedContainer {
  /** The container's name in the pod (`copy-app`, `engine`). */
  name: string;
  role: 'init' | 'engine';
  /** The pod's image reference (pinned by digest) and the Docker image id it runs as. */
  podImage: string;
  image: string;
  /** Kubernetes `command` → Docker Entrypoint, `args` → Cmd. */
  entrypoint: string[];
  cmd: string[];
  workingDir?: string;
  env: string[];
  /** `uid:gid`, or undefined for the image's user. */
  user?: string;
  groupAdd: string[];
  readOnlyRootfs: boolean;
  noNewPrivileges: boolean;
  privileged: boolean;
  capDrop: string[];
  capAdd: string[];
  seccompUnconfined: boolean;
  memoryBytes?: number;
  nanoCpus?: number;
  mounts: PlannedMount[];
  ports: { port: number; protocol: 'udp' | 'tcp' }[];
}

export type PlannedVolume =
  | { name: string; kind: 'emptyDir' }
  /** An image volume, emulated: a Docker volume filled from `image` at `path` (what the mounts' subPath selects). */
  | { name: string; kind: 'image'; podImage: string; image: string; path: string };

export interface RunPlan {
  podName: string;
  volumes: PlannedVolume[];
  init: PlannedContainer[];
  engine: PlannedContainer;
  /** What differs from the cluster, for the user. */
  notes: string[];
}

export interface RunPlanOptions {
  /** Maps the pod's image reference to a Docker image id; throws for an image it does not know. */
  resolveImage(podImage: string): string;
  /** `K=V` added to the engine container's environment (after the pod's own). */
  env?: string[];
  /** Replaces the engine's args (the start command; the sentinel guard stays in front of it). */
  args?: string[];
}

/** The pod spec inside any workload kind. */
export function podSpecOf(emission: K8sEmission): IPodSpec {
  const o = emission.object;
  if (o.kind === 'GameServer') return o.spec.template.spec;
  if (o.kind === 'Fleet') return o.spec.template.spec.template.spec;
  const spec = o.kind === 'Deployment' ? (o as IDeployment).spec?.template.spec : (o as IPod).spec;
  if (!spec) throw new GamelayerError('run.kind', `the ${o.kind} has no pod spec`);
  return spec;
}

export function runPlan(emission: K8sEmission, podName: string, options: RunPlanOptions): RunPlan {
  const spec = podSpecOf(emission);
  const notes: string[] = [];
  const kind = emission.options.kind;
  if ((kind === 'deployment' || kind === 'fleet') && emission.options.replicas !== 1) {
    notes.push(`--kind ${kind} has ${emission.options.replicas} replicas; run-local runs one pod`);
  }
  if (kind === 'gameserver' || kind === 'fleet') {
    notes.push('Agones: no SDK sidecar runs locally; a game that calls the Agones SDK cannot reach it');
  }

  const volumes: PlannedVolume[] = (spec.volumes ?? []).map((v): PlannedVolume => {
    if (v.emptyDir) return { name: v.name, kind: 'emptyDir' };
    if (v.image?.reference) {
      const podImage = v.image.reference;
      return { name: v.name, kind: 'image', podImage, image: options.resolveImage(podImage), path: imageVolumePath(spec, v.name) };
    }
    throw new GamelayerError('run.volume', `pod volume ${v.name}: run-local runs emptyDir and image volumes only`);
  });
  if (volumes.some((v) => v.kind === 'emptyDir')) {
    notes.push('emptyDir volumes are Docker volumes without a size limit: sizeLimit and ephemeral-storage are not enforced');
  }
  if (volumes.some((v) => v.kind === 'image')) {
    notes.push(
      'image volumes are emulated: Docker 20.10 cannot mount an image, so each is a Docker volume filled from the tree ' +
        "image (a copy, like the init containers' but done by the daemon) and mounted read-only; unlike a cluster's " +
        'image volume it is not noexec',
    );
  }

  const init = (spec.initContainers ?? []).map((c) => plannedContainer(c, 'init', spec, volumes, options));
  const engines = spec.containers.filter((c) => c.name === ENGINE_CONTAINER);
  const others = spec.containers.filter((c) => c.name !== ENGINE_CONTAINER);
  if (engines.length !== 1 || others.length > 0) {
    throw new GamelayerError(
      'run.containers',
      `the pod has containers ${spec.containers.map((c) => c.name).join(', ')}; run-local runs exactly one container named ${ENGINE_CONTAINER}`,
    );
  }
  const engine = plannedContainer(engines[0]!, 'engine', spec, volumes, options);
  engine.env.push(...(options.env ?? []));
  if (options.args) {
    // Behind the tree guard the args are the start command; without the guard (--volumes none) the command is.
    if (engine.entrypoint.at(-1) === GUARD_NAME) engine.cmd = [...options.args];
    else {
      engine.entrypoint = [...options.args];
      engine.cmd = [];
    }
  }
  return { podName, volumes, init, engine, notes };
}

/** The one subPath under which every mount of an image volume looks into the image, as an absolute path. */
function imageVolumePath(spec: IPodSpec, volume: string): string {
  const mounts = [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === volume));
  const subPaths = new Set(mounts.map((m) => m.subPath ?? ''));
  const only = [...subPaths][0];
  if (subPaths.size !== 1 || !only) {
    throw new GamelayerError(
      'run.volume',
      `image volume ${volume}: run-local needs every mount of it to use one subPath (it fills a Docker volume from that directory of the image)`,
    );
  }
  return `/${only.replace(/^\/+/, '')}`;
}

function plannedContainer(
  c: IContainer,
  role: 'init' | 'engine',
  spec: IPodSpec,
  volumes: PlannedVolume[],
  options: RunPlanOptions,
): PlannedContainer {
  if (!c.image) throw new GamelayerError('run.container', `container ${c.name}: no image`);
  const pod = spec.securityContext ?? {};
  const sc: ISecurityContext = c.securityContext ?? {};
  const uid = sc.runAsUser ?? pod.runAsUser;
  const gid = sc.runAsGroup ?? pod.runAsGroup;
  const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  if (nonRoot && uid === 0) {
    throw new GamelayerError('run.security', `container ${c.name}: runAsNonRoot with runAsUser 0 cannot start (the kubelet refuses it too)`);
  }
  if (nonRoot && uid === undefined) {
    throw new GamelayerError('run.security', `container ${c.name}: runAsNonRoot needs a numeric runAsUser for run-local to enforce it`);
  }
  const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp === 'Localhost') throw new GamelayerError('run.security', `container ${c.name}: seccompProfile Localhost is not supported by run-local`);

  const mounts = (c.volumeMounts ?? []).map((m): PlannedMount => {
    const v = volumes.find((x) => x.name === m.name);
    if (!v) throw new GamelayerError('run.volume', `container ${c.name}: volumeMount ${m.name} names no pod volume`);
    // An image volume's subPath is already applied: its Docker volume holds that directory's content.
    if (m.subPath && v.kind !== 'image') {
      throw new GamelayerError('run.volume', `container ${c.name}: volumeMount ${m.name} has a subPath; Docker 20.10 cannot mount part of a volume`);
    }
    return { volume: m.name, target: m.mountPath, readOnly: Boolean(m.readOnly) || v.kind === 'image' };
  });

  const env = (c.env ?? []).map((e) => {
    if (e.valueFrom) throw new GamelayerError('run.env', `container ${c.name}: env ${e.name} uses valueFrom, which run-local cannot resolve`);
    return `${e.name}=${e.value ?? ''}`;
  });
  const limits = (c.resources?.limits ?? {}) as Record<string, string | number | undefined>;
  return {
    name: c.name,
    role,
    podImage: c.image,
    image: options.resolveImage(c.image),
    entrypoint: [...(c.command ?? [])],
    cmd: [...(c.args ?? [])],
    workingDir: c.workingDir,
    env,
    user: uid === undefined ? undefined : `${uid}:${gid ?? uid}`,
    // fsGroup makes the kubelet add that group to every container's processes.
    groupAdd: pod.fsGroup === undefined ? [] : [String(pod.fsGroup)],
    readOnlyRootfs: Boolean(sc.readOnlyRootFilesystem),
    noNewPrivileges: sc.allowPrivilegeEscalation === false,
    privileged: Boolean(sc.privileged),
    capDrop: [...(sc.capabilities?.drop ?? [])],
    capAdd: [...(sc.capabilities?.add ?? [])],
    seccompUnconfined: seccomp === 'Unconfined',
    memoryBytes: limits.memory === undefined ? undefined : quantityBytes(String(limits.memory), `container ${c.name}: limits.memory`),
    nanoCpus: limits.cpu === undefined ? undefined : Math.round(quantityNumber(String(limits.cpu), `container ${c.name}: limits.cpu`) * 1e9),
    mounts,
    ports: (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() === 'udp' ? 'udp' : 'tcp' })),
  };
}

/** A Kubernetes quantity (`250m`, `2`, `.5`, `512Mi`, `1G`, `1e3`), read as the config and k8s read it. */
function quantity(q: string, where: string): Quantity {
  const parsed = parseQuantity(q);
  if (!parsed) throw new GamelayerError('run.quantity', `${where}: ${JSON.stringify(q)} is not a Kubernetes quantity such as 500m, 2, 512Mi`);
  return parsed;
}

export function quantityNumber(q: string, where: string): number {
  const parsed = quantity(q, where);
  return Number(parsed.num) / Number(parsed.den);
}

export function quantityBytes(q: string, where: string): number {
  return ceilQuantity(quantity(q, where));
}
