// The four workload kinds around one pod template: Pod, Deployment, Agones GameServer and Agones Fleet.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { DeployInput } from './input.js';
import { DEFAULT_K8S_OPTIONS, DEFAULT_VOLUMES, k8sOptions, type K8sOptions } from './options.js';
import { ENGINE_CONTAINER, podTemplate, resourceName, selectorLabels, type TreeDelivery } from './pod.js';

interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** agones.dev/v1 GameServerSpec, the part we emit. */
export interface AgonesGameServerSpec {
  container: string;
  ports: {
    name: string;
    portPolicy: K8sOptions['portPolicy'];
    /** Absent with Passthrough: Agones sets it to the host port it allocates. */
    containerPort?: number;
    hostPort?: number;
    protocol: 'UDP' | 'TCP';
  }[];
  health: { disabled: boolean; initialDelaySeconds?: number; periodSeconds?: number; failureThreshold?: number };
  template: { metadata: ObjectMeta; spec: IPodSpec };
}

export interface AgonesGameServer {
  apiVersion: 'agones.dev/v1';
  kind: 'GameServer';
  metadata: ObjectMeta;
  spec: AgonesGameServerSpec;
}

export interface AgonesFleet {
  apiVersion: 'agones.dev/v1';
  kind: 'Fleet';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    scheduling: 'Packed' | 'Distributed';
    template: { metadata: ObjectMeta; spec: AgonesGameServerSpec };
  };
}

export type Workload = IPod | IDeployment | AgonesGameServer | AgonesFleet;

export interface K8sEmission {
  /** Plain data, ready for YAML or for run-local to read the containers and volumes back. */
  object: Workload;
  options: K8sOptions;
  deliveries: TreeDelivery[];
  notes: string[];
  /** What the cluster must offer for this output to work (image volumes); empty for copy mode. */
  requirements: string[];
}

export const IMAGE_VOLUME_REQUIREMENTS = [
  'Kubernetes image volumes (KEP-4639, volume "image: {reference, pullPolicy}"): beta and on by default from ' +
    'Kubernetes 1.35, GA in 1.36; on 1.31-1.34 enable the ImageVolume feature gate on the API server and kubelets',
  'containerd >= 2.1 on every node, >= 2.2 for subPath (used here: containerd 2.1 silently ignores subPath and ' +
    'mounts the image root); CRI-O >= 1.31',
  'a cluster without image-volume support may drop the field or mount an empty volume without an error: the engine ' +
    'container checks the .gamelayer-tree sentinel in every mount and refuses to start without it',
  'image volumes are read-only and noexec: the game cannot write into those trees or execute files from them',
];

/** Builds the workload for `options.kind` as plain data. */
export function k8sWorkload(input: DeployInput, partial: Partial<K8sOptions> = {}): K8sEmission {
  const chunkedDefault = initForChunkedTrees(input, partial);
  const options = k8sOptions(chunkedDefault ? { ...partial, volumes: 'init' } : partial);
  const agones = options.kind === 'gameserver' || options.kind === 'fleet';
  const pod = podTemplate(input, options, agones);
  const name = resourceName(input, options);
  const meta: ObjectMeta = {
    name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    labels: pod.labels,
    annotations: pod.annotations,
  };
  const templateMeta: ObjectMeta = { labels: pod.templateLabels, annotations: pod.templateAnnotations };
  const gameServerSpec = (): AgonesGameServerSpec => ({
    container: ENGINE_CONTAINER,
    ports: [
      agonesPort({ ...options.port, name: options.portName ?? 'default', portPolicy: options.portPolicy, hostPort: options.hostPort }),
      ...options.extraPorts.map((p) => agonesPort({ ...p, portPolicy: p.portPolicy ?? options.portPolicy })),
    ],
    health: options.health.disabled
      ? { disabled: true }
      : {
          disabled: false,
          initialDelaySeconds: options.health.initialDelaySeconds,
          periodSeconds: options.health.periodSeconds,
          failureThreshold: options.health.failureThreshold,
        },
    template: { metadata: templateMeta, spec: pod.spec },
  });

  let object: Workload;
  switch (options.kind) {
    case 'pod':
      object = { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: pod.spec };
      break;
    case 'deployment':
      object = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta,
        spec: {
          replicas: options.replicas,
          selector: { matchLabels: selectorLabels(input, options) },
          ...(bindsHostPort(pod.spec) ? { strategy: HOST_PORT_STRATEGY } : {}),
          template: { metadata: templateMeta, spec: pod.spec },
        },
      };
      break;
    case 'gameserver':
      object = { apiVersion: 'agones.dev/v1', kind: 'GameServer', metadata: meta, spec: gameServerSpec() };
      break;
    case 'fleet':
      object = {
        apiVersion: 'agones.dev/v1',
        kind: 'Fleet',
        metadata: meta,
        spec: { replicas: options.replicas, scheduling: options.fleetScheduling, template: { metadata: templateMeta, spec: gameServerSpec() } },
      };
      break;
  }
  const usesImageVolumes = pod.deliveries.some((d) => d.via === 'image');
  return {
    // Plain data with no shared references: a caller (run-local) may change one part without touching another.
    object: structuredClone(object),
    options,
    deliveries: pod.deliveries,
    notes: chunkedDefault ? [chunkedDefault, ...pod.notes] : pod.notes,
    requirements: usesImageVolumes ? [...IMAGE_VOLUME_REQUIREMENTS] : [],
  };
}

/**
 * A rollout for pods that bind a host port: the default (25 % surge) starts a new pod before an old one stops, and
 * where every node already runs one (one node, or replicas = nodes) it cannot be scheduled, so the rollout stalls.
 * No surge, one pod at a time: each old pod is stopped before its replacement is placed (docs/deploy.md).
 */
const HOST_PORT_STRATEGY = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } as const;

function bindsHostPort(spec: IPodSpec): boolean {
  return spec.containers.some((c) => c.ports?.some((p) => p.hostPort !== undefined));
}

/**
 * One GameServer port as Agones' webhook takes it: no containerPort with Passthrough ("ContainerPort cannot be
 * specified with Passthrough PortPolicy": the container port is the host port Agones allocates, which the game reads
 * from the SDK), a hostPort only with Static.
 */
function agonesPort(p: { name: string; portPolicy: K8sOptions['portPolicy']; containerPort: number; hostPort?: number; protocol: 'UDP' | 'TCP' }): AgonesGameServerSpec['ports'][number] {
  return {
    name: p.name,
    portPolicy: p.portPolicy,
    ...(p.portPolicy === 'Passthrough' ? {} : { containerPort: p.containerPort }),
    ...(p.hostPort !== undefined && p.portPolicy === 'Static' ? { hostPort: p.hostPort } : {}),
    protocol: p.protocol,
  };
}

/** The file name `gamelayer k8s --out DIR` writes. */
export function k8sFileName(options: Pick<K8sOptions, 'kind' | 'volumes'>): string {
  const suffix = { init: '', image: '-image-volumes', none: '-server-image' }[options.volumes];
  return `${options.kind}${suffix}.yaml`;
}

/** The build images (`server` or tree names) an emitted workload runs: what must be in the registry. */
export function emittedImages(emission: Pick<K8sEmission, 'options' | 'deliveries'>): string[] {
  if (emission.options.volumes === 'none') return ['server'];
  return ['engine', ...emission.deliveries.map((d) => d.tree.tree)];
}

/**
 * A kind whose default is the server image (`--volumes none`) cannot deliver a chunked tree (its images hold chunks,
 * docs/chunks.md): when no mode was asked for (flag or deploy.volumes), such a build gets init containers, the
 * copy that assembles the files, and the note returned here says so. Undefined when the usual default stands.
 */
function initForChunkedTrees(input: DeployInput, partial: Partial<K8sOptions>): string | undefined {
  if (partial.volumes !== undefined) return undefined;
  const kind = partial.kind ?? DEFAULT_K8S_OPTIONS.kind;
  if (DEFAULT_VOLUMES[kind] !== 'none') return undefined;
  const chunked = input.trees.filter((t) => t.chunked).map((t) => t.tree);
  if (chunked.length === 0) return undefined;
  return (
    `tree${chunked.length > 1 ? 's' : ''} ${chunked.join(', ')} ${chunked.length > 1 ? 'are' : 'is'} chunked, which the server image ` +
    `(--volumes none, the default for --kind ${kind}) cannot deliver: init containers copy and assemble the trees ` +
    '(--volumes init); pass --volumes or set deploy.volumes to choose'
  );
}
