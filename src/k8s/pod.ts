// The pod every workload kind wraps: one copy init container (or image volume) per non-engine tree, and the engine
// container that refuses to start until every tree is in place.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { ceilQuantity, parseQuantity } from '../config/quantity.js';
import { GamelayerError } from '../errors.js';
import type { DeployInput, DeployTree } from './input.js';
import type { ContainerResources, K8sOptions } from './options.js';
import { copyTarget, refuseRootDelivery } from './copy-target.js';
import { requireServerImage } from './server-image.js';
import { checkMergedLimits, type ComputedFrom } from './resource-limits.js';
import { COPY_SENTINEL, GUARD_NAME, TREE_SENTINEL, copyScript, guardScript } from './scripts.js';
import { quantityMi, treeCopyDiskBytes } from './sizes.js';
import { writableMounts } from './writable.js';

export const ENGINE_CONTAINER = 'engine';

/** How one non-engine tree reaches the engine container. */
export type TreeDelivery =
  | { tree: DeployTree; via: 'copy'; volume: string; target: string; sizeBytes: number; sentinel: string }
  | { tree: DeployTree; via: 'image'; volume: string; sentinel: string };

export interface PodTemplate {
  /** The workload's own metadata: everything, including what changes with every tag or version. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /**
   * The pod template's metadata: only what the content decides, so a new tag of identical content leaves the
   * template byte-identical and a Deployment or Fleet does not roll for nothing.
   */
  templateLabels: Record<string, string>;
  templateAnnotations: Record<string, string>;
  spec: IPodSpec;
  deliveries: TreeDelivery[];
  /** Things the reader of the output must know (printed with it, written as a comment at its top). */
  notes: string[];
}

/** Image volumes are read-only and noexec (KEP-4639), so a tree with executables is copied even in image mode. */
export function treeDeliveries(input: DeployInput, options: Pick<K8sOptions, 'volumes' | 'copyRoot'>): TreeDelivery[] {
  // The server image already holds every tree at its mount path: nothing to deliver.
  if (options.volumes === 'none') return [];
  return input.trees
    .filter((t) => t.tree !== 'engine')
    .map((tree): TreeDelivery => {
      const volume = `tree-${tree.tree}`;
      // A chunked tree's image holds chunks, not its big files: only an assembling copy delivers it.
      if (options.volumes === 'image' && tree.executables === 0 && !tree.chunked) {
        refuseRootDelivery(tree);
        return { tree, via: 'image', volume, sentinel: `${tree.mount}/${TREE_SENTINEL}` };
      }
      const target = copyTarget(tree, options.copyRoot);
      return { tree, via: 'copy', volume, target, sizeBytes: treeCopyDiskBytes(tree), sentinel: `${tree.mount}/${COPY_SENTINEL}` };
    });
}

export function podTemplate(input: DeployInput, options: K8sOptions, agones: boolean): PodTemplate {
  const engine = input.trees.find((t) => t.tree === 'engine')!;
  const deliveries = treeDeliveries(input, options);
  const copies = deliveries.filter((d) => d.via === 'copy');
  const notes: string[] = [];
  const ref = (t: { image: string; digestRef: string }) => (options.refs === 'tag' ? t.image : t.digestRef);
  const serverImage = options.volumes === 'none' ? ref(requireServerImage(input, '--volumes init (or image)')) : undefined;
  if (input.baseImage === 'scratch' && !serverImage) {
    notes.push(
      'baseImage is scratch: the tree images have no sh or cp, so the copy containers and the start guard cannot run; ' +
        'set baseImage in gamelayer.yaml to an image with a POSIX shell (busybox, debian-slim, ...)',
    );
  }
  if (options.volumes === 'image') {
    for (const d of copies) {
      notes.push(
        d.tree.chunked
          ? `tree ${d.tree.tree} is chunked and an image volume would show its chunks, not its files: ` +
              'it is copied and assembled by an init container instead'
          : `tree ${d.tree.tree} has ${d.tree.executables} executable file(s) and image volumes are mounted noexec: ` +
              'it is copied by an init container instead',
      );
    }
  }

  const writable = options.writablePaths === undefined ? undefined : writableMounts(options.writablePaths, input.trees);
  const volumes: IVolume[] = [
    ...deliveries.map((d): IVolume =>
      d.via === 'copy'
        ? { name: d.volume, emptyDir: { sizeLimit: quantityMi(d.sizeBytes) } }
        : { name: d.volume, image: { reference: ref(d.tree), pullPolicy: options.pullPolicy } },
    ),
    // What the engine writes there counts against its ephemeral-storage, which --scratch sizes.
    ...(writable ?? []).map((w): IVolume => ({ name: w.volume, emptyDir: {} })),
  ];

  const copyResources = mergeResources(resources(options.copy), options.copyResources);
  if (copies.length > 0) checkMergedLimits(copyResources, options.copyResources, 'copyResources', COPY_FROM);
  const initContainers: IContainer[] = copies.map((d) => ({
    name: `copy-${d.tree.tree}`,
    image: ref(d.tree),
    imagePullPolicy: options.pullPolicy,
    command: ['sh', '-c', copyScript(d.tree.tree, d.tree.mount, d.target, { chunked: d.tree.chunked })],
    resources: structuredClone(copyResources),
    securityContext: containerSecurity(options, true),
    volumeMounts: [{ name: d.volume, mountPath: d.target }],
  }));

  const engineMounts: IVolumeMount[] = [
    ...deliveries.map((d): IVolumeMount =>
      d.via === 'copy'
        ? { name: d.volume, mountPath: d.tree.mount }
        : // The tree image keeps its files at the mount path: mount that subdirectory, not the image root.
          { name: d.volume, mountPath: d.tree.mount, subPath: d.tree.mount.slice(1), readOnly: true },
    ),
    ...(writable ?? []).map((w): IVolumeMount => ({ name: w.volume, mountPath: w.path })),
  ];
  // emptyDirs count against the pod's ephemeral storage; image volumes live in the image store and do not.
  const copied = copies.reduce((sum, d) => sum + d.sizeBytes, 0);
  const ephemeral = copied + options.scratchBytes;
  const computed = resources(options.engine);
  computed.requests = { ...computed.requests, 'ephemeral-storage': quantityMi(ephemeral) };
  computed.limits = { ...computed.limits, 'ephemeral-storage': quantityMi(ephemeral) };
  const engineResources = mergeResources(computed, options.engineResources);
  checkEphemeral(engineResources, copied);
  checkMergedLimits(engineResources, options.engineResources, 'resources', ENGINE_FROM);

  const engineContainer: IContainer = {
    name: ENGINE_CONTAINER,
    image: serverImage ?? ref(engine),
    imagePullPolicy: options.pullPolicy,
    // The server image holds every tree, so there is nothing to guard: the start command runs as the image's
    // entrypoint would (stated here so the pod does not depend on the image config), and a scratch base works.
    ...(serverImage
      ? { command: input.start }
      : { command: ['sh', '-c', guardScript(deliveries.map((d) => d.sentinel)), GUARD_NAME], args: input.start }),
    workingDir: engine.mount,
    // Agones adds the container ports from GameServer.spec.ports itself.
    ...(agones
      ? {}
      : {
          ports: [
            // A host port asked for is the node's port, as Kubernetes takes it (one such pod per node).
            { name: options.portName ?? 'game', containerPort: options.port.containerPort, ...(options.hostPort !== undefined ? { hostPort: options.hostPort } : {}), protocol: options.port.protocol },
            ...options.extraPorts.map((p) => ({ name: p.name, containerPort: p.containerPort, ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}), protocol: p.protocol })),
          ],
        }),
    ...(options.env.length > 0 ? { env: structuredClone(options.env) } : {}),
    resources: engineResources,
    securityContext: containerSecurity(options, writable !== undefined),
    ...(engineMounts.length > 0 ? { volumeMounts: engineMounts } : {}),
  };

  const spec: IPodSpec = {
    // The Agones SDK sidecar needs the service account token; a plain pod does not.
    ...(agones ? {} : { automountServiceAccountToken: false }),
    securityContext: {
      ...(options.runAsUser === 0 ? {} : { runAsNonRoot: true }),
      runAsUser: options.runAsUser,
      runAsGroup: options.runAsGroup,
      fsGroup: options.runAsGroup,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...structuredClone(options.scheduling),
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers: [engineContainer],
    ...(volumes.length > 0 ? { volumes } : {}),
  };
  const all = annotations(input, deliveries);
  const perBuild = ['gamelayer.dev/version', 'gamelayer.dev/tag', 'gamelayer.dev/revision', 'gamelayer.dev/server-image'];
  const allLabels = labels(input, options);
  return {
    labels: allLabels,
    annotations: all,
    templateLabels: Object.fromEntries(Object.entries(allLabels).filter(([k]) => k !== 'app.kubernetes.io/version')),
    templateAnnotations: Object.fromEntries(Object.entries(all).filter(([k]) => !perBuild.includes(k))),
    spec,
    deliveries,
    notes,
  };
}

export function resourceName(input: DeployInput, options: Pick<K8sOptions, 'name'>): string {
  if (options.name) return options.name;
  const n = input.game.replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/^-+|-+$/g, '');
  return n || 'game';
}

/** The labels a Deployment's selector uses: stable across versions, unlike app.kubernetes.io/version. */
export function selectorLabels(input: DeployInput, options: Pick<K8sOptions, 'name'>): Record<string, string> {
  return { 'app.kubernetes.io/name': resourceName(input, options), 'app.kubernetes.io/component': 'game-server' };
}

function labels(input: DeployInput, options: K8sOptions): Record<string, string> {
  const version = input.version === undefined ? undefined : labelValue(input.version);
  return {
    ...selectorLabels(input, options),
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
    'app.kubernetes.io/part-of': labelValue(input.game) ?? 'game',
    'app.kubernetes.io/managed-by': 'gamelayer',
  };
}

function annotations(input: DeployInput, deliveries: TreeDelivery[]): Record<string, string> {
  const a: Record<string, string> = {};
  if (input.version !== undefined) a['gamelayer.dev/version'] = input.version;
  a['gamelayer.dev/tag'] = input.tag;
  if (input.revision !== undefined) a['gamelayer.dev/revision'] = input.revision;
  if (input.serverImage) a['gamelayer.dev/server-image'] = input.serverImage;
  for (const t of input.trees) {
    const digests = Object.entries(t.treeDigests);
    a[`gamelayer.dev/tree-${t.tree}`] =
      digests.length === 1 && digests[0]![0] === '*' ? digests[0]![1] : digests.map(([p, d]) => `${p}=${d}`).join(',');
    a[`gamelayer.dev/tree-${t.tree}-bytes`] = String(t.bytes);
  }
  for (const d of deliveries) a[`gamelayer.dev/tree-${d.tree.tree}-delivery`] = d.via;
  return a;
}

/** Label values: ≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends; otherwise left out. */
function labelValue(v: string): string | undefined {
  return v.length <= 63 && /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(v) ? v : undefined;
}

const ENGINE_FROM: ComputedFrom = {
  requests: { cpu: '--cpu', memory: '--memory', 'ephemeral-storage': 'the tree copies and --scratch' },
  limits: { cpu: '--cpu-limit', memory: '--memory', 'ephemeral-storage': 'the tree copies and --scratch' },
};
const COPY_FROM: ComputedFrom = { requests: { cpu: '--copy-cpu', memory: '--copy-memory' }, limits: { cpu: '--copy-cpu-limit', memory: '--copy-memory' } };

function resources(r: ContainerResources): { requests: Record<string, string>; limits: Record<string, string> } {
  return {
    requests: { cpu: r.cpu, memory: r.memory },
    limits: { ...(r.cpuLimit ? { cpu: r.cpuLimit } : {}), memory: r.memory },
  };
}

/** The configured requests and limits over the computed ones, key by key (a key set in the config wins). */
function mergeResources(
  computed: { requests: Record<string, string>; limits: Record<string, string> },
  over: IResourceRequirements | undefined,
): { requests: Record<string, string>; limits: Record<string, string> } {
  if (!over) return computed;
  const str = (r: object | undefined) => Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, String(v)]));
  return { requests: { ...computed.requests, ...str(over.requests) }, limits: { ...computed.limits, ...str(over.limits) } };
}

/** Copies live in emptyDirs on the node's disk: an ephemeral-storage limit below them evicts the pod mid-copy. */
function checkEphemeral(r: { requests: Record<string, string>; limits: Record<string, string> }, copiedBytes: number): void {
  for (const [kind, q] of [['requests', r.requests['ephemeral-storage']], ['limits', r.limits['ephemeral-storage']]] as const) {
    const bytes = q === undefined ? undefined : quantityToBytes(q);
    if (bytes !== undefined && bytes < copiedBytes) {
      throw new GamelayerError(
        'deploy.ephemeral-storage',
        `deploy.resources.${kind}.ephemeral-storage: ${q} is less than the ${quantityMi(copiedBytes)} the tree copies take; the kubelet would evict the pod`,
        `raise it to at least ${quantityMi(copiedBytes)} plus room for logs, leave it out (gamelayer computes it), or use --volumes none`,
      );
    }
  }
}

function quantityToBytes(q: string): number | undefined {
  const parsed = parseQuantity(q);
  return parsed && ceilQuantity(parsed);
}

function containerSecurity(options: K8sOptions, readOnlyRoot: boolean): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    ...(readOnlyRoot ? { readOnlyRootFilesystem: true } : {}),
    ...(options.runAsUser === 0 ? {} : { runAsNonRoot: true }),
  };
}
