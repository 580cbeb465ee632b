// The `deploy:` section of gamelayer.yaml as ECS options, where ECS has an equivalent: env (plain values), the
// engine's cpu/memory, ports with protocols, health timings, the grace period, a read-only root, volumes none|init.
// What ECS cannot express is left out with a note, so the task definition never claims a setting it does not carry.
import { writablePathsOf, type DeployConfig } from '../config/deploy.js';
import { ceilQuantity, parseQuantity } from '../config/quantity.js';
import { GamelayerError } from '../errors.js';
import type { EcsOptions } from './task-definition.js';

/** ECS's limit on a container's stop timeout (SIGTERM → SIGKILL), and its lower bound. */
export const ECS_MAX_STOP_TIMEOUT = 120;
const ECS_MIN_STOP_TIMEOUT = 2;
const MiB = 2n ** 20n;

/**
 * A Kubernetes quantity as ⌈q × mul / div⌉, read as the config loader and the k8s specs read it (`500m`, `1.5`,
 * `1e3`, `2Gi`), so ECS gets the same figures.
 */
function quantity(q: unknown, field: string, mul: bigint, div: bigint): number {
  const parsed = parseQuantity(q);
  if (!parsed) throw new GamelayerError('deploy.option', `${field}: ${JSON.stringify(q)} is not a quantity ECS can use`, 'write it as 500m, 2, 512Mi or 4Gi');
  return ceilQuantity(parsed, mul, div);
}

/** Fields of the section that have no ECS counterpart. */
const K8S_ONLY = ['nodeSelector', 'tolerations', 'affinity', 'priorityClassName', 'serviceAccountName', 'copyResources'] as const;

export interface EcsFromDeploy {
  options: Partial<EcsOptions>;
  notes: string[];
}

export function ecsOptionsFromConfig(deploy: DeployConfig | undefined): EcsFromDeploy {
  const options: Partial<EcsOptions> = {};
  const notes: string[] = [];
  if (!deploy) return { options, notes };

  if (deploy.env) {
    const plain = deploy.env.filter((e) => e.valueFrom === undefined);
    const clusterOnly = deploy.env.filter((e) => e.valueFrom !== undefined);
    options.env = plain.map((e) => ({ name: e.name, value: e.value ?? '' }));
    if (clusterOnly.length) {
      notes.push(`deploy.env: ${clusterOnly.map((e) => e.name).join(', ')} use valueFrom, which only a cluster resolves: left out`);
    }
  }

  const requests = (deploy.resources?.requests ?? {}) as Record<string, unknown>;
  const limits = (deploy.resources?.limits ?? {}) as Record<string, unknown>;
  // ECS container cpu is a share in CPU units (1024 = one vCPU): the request, else the limit.
  const cpu = requests.cpu ?? limits.cpu;
  if (cpu !== undefined) {
    const field = requests.cpu !== undefined ? 'deploy.resources.requests.cpu' : 'deploy.resources.limits.cpu';
    options.engineCpu = quantity(cpu, field, 1024n, 1n);
  }
  // memory is ECS's hard limit (the container is killed above it), memoryReservation its soft one.
  if (limits.memory !== undefined) options.engineMemory = quantity(limits.memory, 'deploy.resources.limits.memory', 1n, MiB);
  if (requests.memory !== undefined) {
    options.engineMemoryReservation = quantity(requests.memory, 'deploy.resources.requests.memory', 1n, MiB);
  }
  if (requests['ephemeral-storage'] !== undefined || limits['ephemeral-storage'] !== undefined) {
    notes.push('deploy.resources ephemeral-storage: ECS sizes the task\'s storage from the trees and --scratch; left out');
  }

  if (deploy.ports) {
    const [game, ...rest] = deploy.ports;
    options.port = { containerPort: game!.containerPort, protocol: game!.protocol };
    options.extraPorts = rest.map((p, i) => ({ name: p.name ?? `port-${i + 1}`, containerPort: p.containerPort, protocol: p.protocol }));
    if (deploy.ports.some((p) => p.portPolicy !== undefined || p.hostPort !== undefined)) {
      notes.push('deploy.ports portPolicy/hostPort are Agones settings: left out (bridge mode: --host-port)');
    }
  }

  const health = deploy.agones?.health;
  if (health && !health.disabled) {
    // ECS's health check needs a command (--health-cmd); the section gives the timings.
    const range = (field: string, v: number | undefined, min: number, max: number): number | undefined => {
      if (v === undefined) return undefined;
      const c = Math.min(max, Math.max(min, v));
      if (c !== v) notes.push(`deploy.agones.health.${field} ${v}: ECS allows ${min}-${max}, ${c} used`);
      return c;
    };
    options.healthTimings = {
      intervalSeconds: range('periodSeconds', health.periodSeconds, 5, 300),
      retries: range('failureThreshold', health.failureThreshold, 1, 10),
      startPeriodSeconds: range('initialDelaySeconds', health.initialDelaySeconds, 0, 300),
    };
  }

  const grace = deploy.terminationGracePeriodSeconds;
  if (grace !== undefined) {
    const stop = Math.min(ECS_MAX_STOP_TIMEOUT, Math.max(ECS_MIN_STOP_TIMEOUT, grace));
    if (stop !== grace) {
      notes.push(`deploy.terminationGracePeriodSeconds ${grace}: ECS's stopTimeout allows ${ECS_MIN_STOP_TIMEOUT}-${ECS_MAX_STOP_TIMEOUT} s, ${stop} used`);
    }
    options.stopTimeout = stop;
  }

  const writable = writablePathsOf(deploy);
  if (writable) options.writablePaths = writable;

  if (deploy.volumes === 'image') notes.push('deploy.volumes image: ECS has no image volumes, so the task copies the trees (init)');
  else if (deploy.volumes !== undefined) options.volumes = deploy.volumes;
  const ignored: string[] = K8S_ONLY.filter((k) => deploy[k] !== undefined);
  if (deploy.agones?.portPolicy !== undefined) ignored.push('agones.portPolicy');
  if (deploy.agones?.scheduling !== undefined) ignored.push('agones.scheduling');
  if (ignored.length) notes.push(`deploy.${ignored.join(', deploy.')}: no ECS equivalent, left out`);
  return { options, notes };
}
