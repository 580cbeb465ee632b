// The `deploy:` section of gamelayer.yaml: scheduling and pod settings for the emitted specs. Each Kubernetes-typed
// field is checked against the schemas the output is checked against: the Agones CRDs' structural schemas (whose
// copy of core/v1 lists every known field, so a misspelt key is caught before the API server prunes it) and
// kubernetes-models' OpenAPI validators (formats such as quantities). Problems come back as (path, message) pairs;
// load.ts turns the paths into the yaml's line and column.
import { ENV_NAME_EXPECTED, LABEL_KEY_EXPECTED, LABEL_VALUE_EXPECTED, SUBDOMAIN_EXPECTED, isDnsSubdomain, isEnvName, isLabelKey, isLabelValue } from './k8s-names.js';
import { compareQuantities, parseQuantity } from './quantity.js';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import { z } from 'zod';
import { once } from '../util/once.js';
import { writablePathProblem } from './writable-paths.js';
import agonesSchemas from './agones-deploy-schema.json' with { type: 'json' };

// The validators load only for a config with a deploy section: every other command starts without them
// (ajv and the models cost a few hundred ms). Loaded synchronously, as config parsing is.
const loadCjs = createRequire(import.meta.url);
type Model = new (v: unknown) => { validate(): void };
const model = (name: string): Model => (loadCjs(`kubernetes-models/v1/${name}`) as Record<string, Model>)[name]!;

export const PORT_POLICY_NAMES = ['Dynamic', 'Static', 'Passthrough', 'None'] as const;

/** Where a read-only root leaves the engine room to write when `writablePaths` is not given. */
export const DEFAULT_WRITABLE_PATHS = ['/tmp'];

/** The shape, built on first use (config/schema.ts); Kubernetes-typed values are checked in depth by `deployProblems`. */
export const deploySchema = once(buildDeploySchema);

function buildDeploySchema() {
  const port = z.strictObject({
    // IANA_SVC_NAME, as the API server checks a container port's name: `27015` or `a--b` passed here and was refused there.
    name: z
      .string()
      .regex(/^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a port name of lower-case letters, digits and "-" with at least one letter and no "--"' })
      .max(15)
      .optional(),
    containerPort: z.number().int().min(1).max(65535),
    protocol: z.enum(['UDP', 'TCP']).default('UDP'),
    /** Agones only; default: deploy.agones.portPolicy. */
    portPolicy: z.enum(PORT_POLICY_NAMES).optional(),
    /** Agones portPolicy Static only. */
    hostPort: z.number().int().min(1).max(65535).optional(),
  });

  const record = z.record(z.string(), z.unknown());

  /** A folder of the engine's file system mounted writable over a read-only root (checked against the trees in load.ts). */
  const writablePath = z
    .string()
    .superRefine((v, ctx) => {
      const problem = writablePathProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    // `/tmp/` and `/tmp` are one mount: compared (and written) without the trailing slash.
    .transform((v) => v.replace(/\/+$/, '').replace(/\/{2,}/g, '/'));

  return z.strictObject({
    /** Default volume mode for every kind (else the per-kind default, see docs/deploy.md). */
    volumes: z.enum(['none', 'init', 'image']).optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(record).optional(),
    affinity: record.optional(),
    priorityClassName: z.string().min(1).optional(),
    serviceAccountName: z.string().min(1).optional(),
    terminationGracePeriodSeconds: z.number().int().min(0).optional(),
    /** Environment of the engine container: Kubernetes EnvVar entries. */
    env: z.array(record).optional(),
    /** The engine container's requests and limits; merged over the computed ones (ephemeral-storage included). */
    resources: record.optional(),
    /** The copy containers' requests and limits (init mode). */
    copyResources: record.optional(),
    /** The first port is the game port; more ports (UDP or TCP) follow it. */
    ports: z.array(port).min(1).optional(),
    /** Opt-in: the engine's root file system read-only, with `writablePaths` (default DEFAULT_WRITABLE_PATHS) writable. */
    readOnlyRootFilesystem: z.boolean().optional(),
    writablePaths: z.array(writablePath).optional(),
    agones: z
      .strictObject({
        portPolicy: z.enum(PORT_POLICY_NAMES).optional(),
        health: record.optional(),
        scheduling: z.enum(['Packed', 'Distributed']).optional(),
      })
      .optional(),
  });
}

type RawDeploy = z.infer<ReturnType<typeof buildDeploySchema>>;

export interface DeployPort {
  name?: string;
  containerPort: number;
  protocol: 'UDP' | 'TCP';
  portPolicy?: (typeof PORT_POLICY_NAMES)[number];
  hostPort?: number;
}

export interface AgonesHealth {
  disabled?: boolean;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

/** Pod-level scheduling settings, copied into the pod spec as they are (the k8s emitter's options use it too). */
export interface PodScheduling {
  nodeSelector?: Record<string, string>;
  tolerations?: IToleration[];
  affinity?: IAffinity;
  priorityClassName?: string;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
}

/** The validated deploy section, typed with the Kubernetes API's own types. */
export interface DeployConfig extends PodScheduling {
  volumes?: 'none' | 'init' | 'image';
  env?: IEnvVar[];
  resources?: IResourceRequirements;
  copyResources?: IResourceRequirements;
  ports?: DeployPort[];
  readOnlyRootFilesystem?: boolean;
  writablePaths?: string[];
  agones?: { portPolicy?: DeployPort['portPolicy']; health?: AgonesHealth; scheduling?: 'Packed' | 'Distributed' };
}

export interface DeployProblem {
  /** Path inside the config, e.g. ['deploy', 'tolerations', 0, 'effect']. */
  path: (string | number)[];
  message: string;
  /** Point at the key rather than its value (an unknown field). */
  atKey?: boolean;
}

type StructuralSchema = {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
};
const SCHEMAS = agonesSchemas as unknown as Record<string, StructuralSchema>;

let ajv: AjvClass | undefined;
const compiled = new Map<StructuralSchema, ValidateFunction>();
function crdValidator(schema: StructuralSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    // The CRD schemas use Kubernetes extensions (x-kubernetes-*) and formats such as int-or-string: not strict.
    // Not `new (require(…) as T).Ajv(…)`: tsc 7 drops the parentheses with the cast, and the emitted
    // `new loadCjs('ajv').Ajv(…)` calls the class without new (the library's loadConfig failed on the README's deploy: section).
    const { Ajv } = loadCjs('ajv') as { Ajv: typeof AjvClass };
    ajv ??= new Ajv({ strict: false, allErrors: true, validateFormats: false });
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** A schema of the CRD extract; `item` picks the schema of a list's entries. */
function crd(name: string, item = false): StructuralSchema {
  const s = SCHEMAS[name]!;
  return item ? s.items! : s;
}

/** Every problem of a section that passed `deploySchema`; empty when it is fine. */
export function deployProblems(raw: RawDeploy): DeployProblem[] {
  const out: DeployProblem[] = [];
  const check = (at: (string | number)[], value: unknown, schema: StructuralSchema, model?: (v: unknown) => void) => {
    if (value === undefined) return;
    const found: DeployProblem[] = [];
    for (const p of unknownFields(value, schema)) {
      found.push({ path: ['deploy', ...at, ...p], message: 'unknown field (the API server would drop it)', atKey: true });
    }
    const v = crdValidator(schema);
    if (!v(value)) for (const e of v.errors ?? []) found.push(ajvProblem(['deploy', ...at], e));
    if (found.length === 0 && model) {
      try {
        model(value);
      } catch (e) {
        for (const err of (e as { errors?: ErrorObject[] }).errors ?? []) found.push(ajvProblem(['deploy', ...at], err));
      }
    }
    out.push(...onePerPath(found));
  };
  check(['nodeSelector'], raw.nodeSelector, crd('nodeSelector'));
  raw.tolerations?.forEach((t, i) => check(['tolerations', i], t, crd('tolerations', true), (v) => new (model('Toleration'))(v as IToleration).validate()));
  check(['affinity'], raw.affinity, crd('affinity'), (v) => new (model('Affinity'))(v as IAffinity).validate());
  check(['priorityClassName'], raw.priorityClassName, crd('priorityClassName'));
  check(['serviceAccountName'], raw.serviceAccountName, crd('serviceAccountName'));
  check(['terminationGracePeriodSeconds'], raw.terminationGracePeriodSeconds, crd('terminationGracePeriodSeconds'));
  raw.env?.forEach((e, i) => check(['env', i], e, crd('env', true), (v) => new (model('EnvVar'))(v as IEnvVar).validate()));
  check(['resources'], raw.resources, crd('resources'), (v) => new (model('ResourceRequirements'))(v as IResourceRequirements).validate());
  check(['copyResources'], raw.copyResources, crd('resources'), (v) => new (model('ResourceRequirements'))(v as IResourceRequirements).validate());
  check(['agones', 'health'], raw.agones?.health, crd('health'));
  // Compared only where the quantities themselves passed: one message for a value, not two.
  for (const field of ['resources', 'copyResources'] as const) {
    if (!out.some((p) => p.path[1] === field)) out.push(...limitProblems(field, raw[field]));
  }
  // Names the API server refuses the object for, which the schemas above take as any string.
  for (const [k, v] of Object.entries(raw.nodeSelector ?? {})) {
    if (typeof v !== 'string') continue;
    if (!isLabelKey(k)) out.push({ path: ['deploy', 'nodeSelector', k], message: `${JSON.stringify(k)}: expected ${LABEL_KEY_EXPECTED}`, atKey: true });
    else if (!isLabelValue(v)) out.push({ path: ['deploy', 'nodeSelector', k], message: `${JSON.stringify(v)}: expected ${LABEL_VALUE_EXPECTED}` });
  }
  for (const k of ['priorityClassName', 'serviceAccountName'] as const) {
    const v = raw[k];
    if (typeof v === 'string' && !isDnsSubdomain(v)) out.push({ path: ['deploy', k], message: `${JSON.stringify(v)}: expected ${SUBDOMAIN_EXPECTED}` });
  }
  raw.env?.forEach((e, i) => {
    if (typeof e?.name === 'string' && e.name !== '' && !isEnvName(e.name)) out.push({ path: ['deploy', 'env', i, 'name'], message: `${JSON.stringify(e.name)}: expected ${ENV_NAME_EXPECTED}` });
  });
  out.push(...writableProblems(raw));
  const names = new Map<string, number>();
  raw.ports?.forEach((p, i) => {
    // Checked as the GameServer port it becomes (the CRD's port schema), whatever the kind.
    const policy = p.portPolicy ?? raw.agones?.portPolicy;
    check(['ports', i], { name: p.name ?? 'default', containerPort: p.containerPort, protocol: p.protocol, ...(policy ? { portPolicy: policy } : {}), ...(p.hostPort ? { hostPort: p.hostPort } : {}) }, crd('gameServerPort'));
    if (p.name !== undefined) {
      if (names.has(p.name)) out.push({ path: ['deploy', 'ports', i, 'name'], message: `${p.name} is also the name of port ${names.get(p.name)}; expected distinct names` });
      names.set(p.name, i);
    }
    if (p.hostPort !== undefined && policy !== 'Static') {
      out.push({ path: ['deploy', 'ports', i, 'hostPort'], message: 'a hostPort is only used with portPolicy Static' });
    }
    if (policy === 'Static' && p.hostPort === undefined) {
      out.push({ path: ['deploy', 'ports', i], message: 'portPolicy Static needs a hostPort' });
    }
  });
  return out;
}

/** `writablePaths` without a read-only root (they would do nothing), or a path twice. */
function writableProblems(raw: RawDeploy): DeployProblem[] {
  if (raw.writablePaths === undefined) return [];
  if (raw.readOnlyRootFilesystem !== true) {
    return [{ path: ['deploy', 'writablePaths'], message: 'is only used with readOnlyRootFilesystem: true (the root file system is writable without it)', atKey: true }];
  }
  const out: DeployProblem[] = [];
  raw.writablePaths.forEach((p, i) => {
    const first = raw.writablePaths!.indexOf(p);
    if (first < i) out.push({ path: ['deploy', 'writablePaths', i], message: `${p} is also entry ${first}; expected each path once` });
  });
  return out;
}

/**
 * The folders the engine may write to, or undefined when its root file system stays writable (the default).
 * The k8s and ECS emitters both take them from here.
 */
export function writablePathsOf(deploy: DeployConfig | undefined): string[] | undefined {
  if (deploy?.readOnlyRootFilesystem !== true) return undefined;
  return [...(deploy.writablePaths ?? DEFAULT_WRITABLE_PATHS)];
}

/**
 * The line `k8s` and `ecs` print while gamelayer.yaml has not chosen: the root stays writable by default (a server
 * writing beside its binaries would fail on a read-only one), so the safer setting is suggested, not imposed.
 * `readOnlyRootFilesystem: false` is a choice, and silences it.
 */
export function writableRootNotice(deploy: DeployConfig | undefined): string | undefined {
  if (deploy?.readOnlyRootFilesystem !== undefined) return undefined;
  return (
    "the engine's root file system is writable: set deploy.readOnlyRootFilesystem: true in gamelayer.yaml to make it " +
    `read-only (deploy.writablePaths, default [${DEFAULT_WRITABLE_PATHS.join(', ')}], stay writable), or false to keep it writable without this note`
  );
}

/**
 * What the API server refuses a container for that the schemas let through: a negative quantity, or a limit below
 * its request (`requests.cpu: 2, limits.cpu: 1`), compared as quantities (`1500m` = `1.5`, `2Gi` > `2G`).
 */
function limitProblems(field: 'resources' | 'copyResources', value: Record<string, unknown> | undefined): DeployProblem[] {
  const out: DeployProblem[] = [];
  const side = (kind: 'requests' | 'limits') => {
    const v = value?.[kind];
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  };
  const requests = side('requests');
  const limits = side('limits');
  for (const [kind, values] of [['requests', requests], ['limits', limits]] as const) {
    for (const [name, v] of Object.entries(values)) {
      const q = parseQuantity(v);
      if (q && q.num < 0n) out.push({ path: ['deploy', field, kind, name], message: `${String(v)}: expected a quantity ≥ 0` });
    }
  }
  for (const [name, v] of Object.entries(limits)) {
    const limit = parseQuantity(v);
    const request = parseQuantity(requests[name]);
    if (limit && request && limit.num >= 0n && compareQuantities(limit, request) < 0) {
      out.push({
        path: ['deploy', field, 'limits', name],
        message: `${String(v)} is below the request (${field}.requests.${name}: ${String(requests[name])}); Kubernetes refuses a limit lower than its request`,
      });
    }
  }
  return out;
}

/** kubernetes-models reports a bad quantity three times (not a number, not the format, not oneOf): keep one. */
function onePerPath(problems: DeployProblem[]): DeployProblem[] {
  const seen = new Map<string, DeployProblem>();
  for (const p of problems) {
    const key = p.path.join('.');
    const prev = seen.get(key);
    if (!prev || (p.message.includes('quantity') && !prev.message.includes('quantity'))) seen.set(key, p);
  }
  return [...seen.values()];
}

/** The validated section as the Kubernetes types say (its values passed both schemas). */
export function deployConfig(raw: RawDeploy): DeployConfig {
  return raw as DeployConfig;
}

function ajvProblem(base: (string | number)[], e: ErrorObject): DeployProblem {
  const parts = e.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const path = [...base, ...parts.map((s) => (/^\d+$/.test(s) ? Number(s) : s))];
  let message = e.message ?? 'invalid';
  if (e.keyword === 'required') message = `missing ${String((e.params as { missingProperty?: string }).missingProperty)}`;
  if (e.keyword === 'enum') message = `expected one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
  if (e.keyword === 'format' && (e.params as { format?: string }).format === 'quantity') message = 'expected a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi';
  return { path, message };
}

/** Keys a structural schema does not know (what the API server prunes), as paths below `value`. */
function unknownFields(value: unknown, schema: StructuralSchema, at: (string | number)[] = []): (string | number)[][] {
  if (schema['x-kubernetes-int-or-string']) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => unknownFields(v, schema.items!, [...at, i])) : [];
  if (value === null || typeof value !== 'object') return [];
  const out: (string | number)[][] = [];
  for (const [k, v] of Object.entries(value)) {
    const known = schema.properties?.[k];
    if (known) out.push(...unknownFields(v, known, [...at, k]));
    else if (typeof schema.additionalProperties === 'object') out.push(...unknownFields(v, schema.additionalProperties, [...at, k]));
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) continue;
    else out.push([...at, k]);
  }
  return out;
}
