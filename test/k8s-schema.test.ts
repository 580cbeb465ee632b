// Every emitted object against real schemas: Kubernetes' OpenAPI (kubernetes-models), Agones' CRDs (ajv), and a
// structural-schema walk that finds any field the API server would prune without a word.
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Pod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { deployInputFrom, type DeployInput } from '../src/k8s/input.js';
import { k8sYaml } from '../src/k8s/output.js';
import { WORKLOAD_KINDS, VOLUME_MODES, type K8sOptions } from '../src/k8s/options.js';
import { k8sWorkload, type AgonesFleet, type AgonesGameServer } from '../src/k8s/workloads.js';
import { DEPLOY, REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';
import { k8sOptionsFromConfig } from '../src/k8s/options.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  [k: string]: unknown;
};

const crds = new Map<string, Schema>();
for (const doc of parseAllDocuments(readFileSync(new URL('./schemas/agones-crds.yaml', import.meta.url), 'utf8'))) {
  const crd = doc.toJS() as { kind?: string; spec: { names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } } | null;
  if (crd?.kind !== 'CustomResourceDefinition') continue;
  const v1 = crd.spec.versions.find((v) => v.name === 'v1')!;
  crds.set(crd.spec.names.kind, v1.schema.openAPIV3Schema);
}
const gameServerSchema = crds.get('GameServer')!;
const fleetSchema = crds.get('Fleet')!;
/** The CRD's copy of core/v1 PodTemplateSpec: a strict field list for our pods too (kubernetes-models allows any key). */
const podTemplateSchema = gameServerSchema.properties!.spec!.properties!.template!;

/**
 * Paths of fields a structural schema does not know, i.e. what the API server prunes. Honours
 * x-kubernetes-preserve-unknown-fields (unknown keys kept, known keys still checked) and additionalProperties.
 */
function prunedPaths(value: unknown, schema: Schema, at = ''): string[] {
  if (schema['x-kubernetes-int-or-string']) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => prunedPaths(v, schema.items!, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const known = schema.properties?.[k];
    if (known) out.push(...prunedPaths(v, known, `${at}.${k}`));
    else if (typeof schema.additionalProperties === 'object') out.push(...prunedPaths(v, schema.additionalProperties, `${at}.${k}`));
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) continue;
    else out.push(`${at}.${k}`);
  }
  return out;
}

/** A custom resource: apiVersion, kind and metadata are the API server's, the rest is the CRD schema's. */
function crPrunedPaths(obj: { metadata: Record<string, unknown> } & Record<string, unknown>, schema: Schema): string[] {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
  const meta = Object.keys(metadata).filter((k) => !['name', 'namespace', 'labels', 'annotations'].includes(k));
  return [...meta.map((k) => `.metadata.${k}`), ...prunedPaths(rest, schema)];
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const validators = new Map<Schema, ValidateFunction>();
function ajvErrors(obj: unknown, schema: Schema): string[] {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v(obj) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

function input(): DeployInput {
  return deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
}

/** The pod spec inside any workload kind. */
function podSpec(obj: unknown): IPodSpec {
  const o = obj as { kind: string; spec: IPodSpec & { template: { spec: IPodSpec & { template: { spec: IPodSpec } } } } };
  if (o.kind === 'Pod') return o.spec;
  return o.kind === 'Fleet' ? o.spec.template.spec.template.spec : o.spec.template.spec;
}

const combos = WORKLOAD_KINDS.flatMap((kind) => VOLUME_MODES.map((volumes) => ({ kind, volumes })));

describe('emitted objects against the schemas', () => {
  it('the walk finds pruned fields (it can fail)', () => {
    const gs = k8sWorkload(input(), { kind: 'gameserver' }).object as AgonesGameServer;
    const broken = structuredClone(gs) as unknown as { spec: Record<string, unknown> & { template: { spec: { containers: Record<string, unknown>[] } } } };
    broken.spec.healthcheck = { disabled: true };
    broken.spec.template.spec.containers[0]!.imagePulPolicy = 'Always';
    expect(crPrunedPaths(broken as never, gameServerSchema)).toEqual([
      '.spec.template.spec.containers[0].imagePulPolicy',
      '.spec.healthcheck',
    ]);
    // ajv sees a wrong type in the CRD schema.
    const wrongType = structuredClone(gs) as unknown as { spec: { health: Record<string, unknown> } };
    wrongType.spec.health.periodSeconds = 'often';
    expect(ajvErrors(wrongType, gameServerSchema)).toEqual(['/spec/health/periodSeconds must be integer']);
    // And the Kubernetes validation rejects a wrong type.
    const pod = k8sWorkload(input(), { kind: 'pod' }).object;
    const bad = structuredClone(pod) as { spec: { containers: { ports: { containerPort: unknown }[] }[] } };
    bad.spec.containers[0]!.ports[0]!.containerPort = 'seven';
    expect(() => new Pod(bad as never).validate()).toThrow();
  });

  for (const { kind, volumes } of combos) {
    it(`${kind} with ${volumes} volumes: valid, and nothing would be pruned`, () => {
      const emission = k8sWorkload(input(), { kind, volumes });
      // Validate what a cluster receives: the YAML text, parsed back.
      const obj = parse(k8sYaml(input(), emission)) as Record<string, unknown>;
      expect(obj).toEqual(emission.object);
      switch (kind) {
        case 'pod': {
          new Pod(obj as never).validate();
          expect(prunedPaths({ metadata: {}, spec: (obj as { spec: unknown }).spec }, podTemplateSchema)).toEqual([]);
          break;
        }
        case 'deployment': {
          new Deployment(obj as never).validate();
          const template = (obj as { spec: { template: unknown } }).spec.template;
          expect(prunedPaths(template, podTemplateSchema)).toEqual([]);
          break;
        }
        case 'gameserver': {
          const gs = obj as unknown as AgonesGameServer;
          expect(ajvErrors(gs, gameServerSchema)).toEqual([]);
          expect(crPrunedPaths(gs as never, gameServerSchema)).toEqual([]);
          new Pod({ apiVersion: 'v1', kind: 'Pod', ...gs.spec.template } as never).validate();
          break;
        }
        case 'fleet': {
          const fleet = obj as unknown as AgonesFleet;
          expect(ajvErrors(fleet, fleetSchema)).toEqual([]);
          expect(crPrunedPaths(fleet as never, fleetSchema)).toEqual([]);
          new Pod({ apiVersion: 'v1', kind: 'Pod', ...fleet.spec.template.spec.template } as never).validate();
          break;
        }
      }
    });
  }

  it('the engine\'s root file system stays writable unless deploy.readOnlyRootFilesystem asks (opt-in)', () => {
    for (const { kind, volumes } of combos) {
      const sc = podSpec(k8sWorkload(input(), { kind, volumes }).object).containers[0]!.securityContext!;
      expect([kind, volumes, sc.readOnlyRootFilesystem]).toEqual([kind, volumes, undefined]);
    }
    // Read-only with no writable folder at all: no volume for it.
    const none = podSpec(k8sWorkload(input(), { kind: 'pod', volumes: 'none', writablePaths: [] }).object);
    expect(none.containers[0]!.securityContext!.readOnlyRootFilesystem).toBe(true);
    expect(none.volumes).toBeUndefined();
  });

  for (const { kind, volumes } of combos) {
    it(`${kind} with ${volumes} volumes and a full deploy: section: valid, nothing pruned, every setting in place`, () => {
      const config = fixtureConfig(DEPLOY);
      const deployInput = deployInputFrom(config, fixtureRecord(), REPOSITORY);
      const emission = k8sWorkload(deployInput, { ...k8sOptionsFromConfig(config.deploy), kind, volumes });
      const obj = parse(k8sYaml(deployInput, emission)) as Record<string, unknown>;
      let template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[]; initContainers?: Record<string, unknown>[] } };
      switch (kind) {
        case 'pod':
          new Pod(obj as never).validate();
          template = { spec: (obj as never as { spec: never }).spec };
          break;
        case 'deployment':
          new Deployment(obj as never).validate();
          template = (obj as never as { spec: { template: never } }).spec.template;
          break;
        case 'gameserver': {
          expect(ajvErrors(obj, gameServerSchema)).toEqual([]);
          expect(crPrunedPaths(obj as never, gameServerSchema)).toEqual([]);
          const gs = obj as never as AgonesGameServer;
          expect(gs.spec.ports).toEqual([
            { name: 'game', portPolicy: 'Dynamic', containerPort: 7777, protocol: 'UDP' },
            { name: 'query', portPolicy: 'Static', containerPort: 27015, hostPort: 27015, protocol: 'TCP' },
          ]);
          expect(gs.spec.health).toEqual({ disabled: false, initialDelaySeconds: 30, periodSeconds: 10, failureThreshold: 5 });
          template = gs.spec.template as never;
          break;
        }
        case 'fleet': {
          expect(ajvErrors(obj, fleetSchema)).toEqual([]);
          expect(crPrunedPaths(obj as never, fleetSchema)).toEqual([]);
          const fleet = obj as never as AgonesFleet;
          expect(fleet.spec.scheduling).toBe('Distributed');
          template = fleet.spec.template.spec.template as never;
          break;
        }
      }
      new Pod({ apiVersion: 'v1', kind: 'Pod', metadata: {}, ...template } as never).validate();
      expect(prunedPaths({ metadata: {}, spec: template.spec }, podTemplateSchema)).toEqual([]);
      const spec = template.spec;
      expect(spec.nodeSelector).toEqual({ 'eks.amazonaws.com/nodegroup': 'game-servers' });
      expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'game', effect: 'NoSchedule' }]);
      expect(spec.priorityClassName).toBe('game-servers');
      expect(spec.serviceAccountName).toBe('game-server');
      expect(spec.terminationGracePeriodSeconds).toBe(120);
      expect((spec.affinity as { podAntiAffinity: unknown }).podAntiAffinity).toBeDefined();
      const engine = spec.containers[0]! as { env: unknown; resources: { requests: Record<string, string>; limits: Record<string, string> }; ports?: unknown };
      expect(engine.env).toEqual([
        { name: 'GAME_REGION', value: 'eu-west-1' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ]);
      expect(engine.resources.requests).toMatchObject({ cpu: '2', memory: '4Gi' });
      expect(engine.resources.limits).toMatchObject({ memory: '4Gi' });
      if (kind === 'pod' || kind === 'deployment') {
        expect(engine.ports).toEqual([
          { name: 'game', containerPort: 7777, protocol: 'UDP' },
          // Its host port is bound by a plain pod too (it was left out without a word).
          { name: 'query', containerPort: 27015, hostPort: 27015, protocol: 'TCP' },
        ]);
      }
      for (const c of spec.initContainers ?? []) expect((c as { resources: { requests: Record<string, string> } }).resources.requests['ephemeral-storage']).toBe('2Gi');
      // readOnlyRootFilesystem with writablePaths: the engine's root read-only, each path an emptyDir of its own.
      const sc = spec.containers[0]!.securityContext as Record<string, unknown>;
      expect(sc.readOnlyRootFilesystem).toBe(true);
      const writable = [{ name: 'writable-1', mountPath: '/tmp' }, { name: 'writable-2', mountPath: '/var/log/game' }];
      expect((spec.containers[0]!.volumeMounts as unknown[]).slice(-2)).toEqual(writable);
      expect((spec.volumes as unknown[]).slice(-2)).toEqual(writable.map((w) => ({ name: w.name, emptyDir: {} })));
    });
  }

  it('a host port on a pod or deployment is its container port\'s node port (it was left out without a word)', () => {
    for (const kind of ['pod', 'deployment'] as const) {
      type C = { ports?: unknown[] };
      const obj = k8sWorkload(input(), { kind, hostPort: 7100 }).object as { spec: { containers?: C[]; template?: { spec: { containers: C[] } } } };
      const containers = obj.spec.containers ?? obj.spec.template!.spec.containers;
      expect(containers.find((c) => c.ports)?.ports).toEqual([{ name: 'game', containerPort: 7777, hostPort: 7100, protocol: 'UDP' }]);
    }
  });

  // The default rollout (25 % surge) placed a new pod before stopping an old one: with the host port taken on every
  // node (one node, or replicas = nodes) it stayed Pending and the rollout stalled.
  it('a deployment that binds a host port rolls without surge, one pod at a time; without one, the default', () => {
    type D = { spec: { strategy?: unknown } };
    const noSurge = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
    const config = fixtureConfig(DEPLOY); // its query port has hostPort 27015
    const fromSection = deployInputFrom(config, fixtureRecord(), REPOSITORY);
    for (const volumes of VOLUME_MODES) {
      const cases: [string, DeployInput, Partial<K8sOptions>, unknown][] = [
        ['--host-port', input(), { hostPort: 7100 }, noSurge],
        ['deploy.ports hostPort', fromSection, k8sOptionsFromConfig(config.deploy), noSurge],
        ['no host port', input(), {}, undefined],
      ];
      for (const [what, i, options, strategy] of cases) {
        const obj = parse(k8sYaml(i, k8sWorkload(i, { ...options, kind: 'deployment', volumes, replicas: 3 }))) as D;
        expect([what, volumes, obj.spec.strategy]).toEqual([what, volumes, strategy]);
        new Deployment(obj as never).validate();
      }
    }
  });

  it('Agones options (Static port, health off, TCP, replicas) stay inside the CRD schema', () => {
    const opts: Partial<K8sOptions> = {
      kind: 'fleet',
      portPolicy: 'Static',
      hostPort: 7100,
      port: { containerPort: 27015, protocol: 'TCP' },
      health: { disabled: true, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
      replicas: 4,
      namespace: 'games',
    };
    const fleet = k8sWorkload(input(), opts).object as AgonesFleet;
    expect(fleet.spec.replicas).toBe(4);
    expect(fleet.spec.template.spec.ports).toEqual([
      { name: 'default', portPolicy: 'Static', containerPort: 27015, hostPort: 7100, protocol: 'TCP' },
    ]);
    expect(fleet.spec.template.spec.health).toEqual({ disabled: true });
    expect(ajvErrors(fleet, fleetSchema)).toEqual([]);
    expect(crPrunedPaths(fleet as never, fleetSchema)).toEqual([]);
  });
});
