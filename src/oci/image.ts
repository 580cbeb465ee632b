// Image config, manifest and index documents with exact, stable bytes: the same inputs give the same
// digests on any machine (keys sorted, no whitespace, `created` fixed by SOURCE_DATE_EPOCH).
import { GamelayerError } from '../errors.js';
import type { BuiltLayer, Descriptor } from '../types.js';
import { CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, sha256Digest } from './layout.js';
import type { ImageManifest, IndexDocument, Platform } from './model.js';
import { sourceDateEpoch } from './source-date.js';

// The documents' shapes belong to the image model (model.ts); re-exported here, where they are made.
export type { ImageManifest, IndexDocument, Platform };


/** The OCI image config fields we read and write (image-spec config.md). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
}

/** A JSON document ready for the store: the exact bytes and the descriptor that names them. */
export interface JsonDocument<T = unknown> {
  value: T;
  bytes: Buffer;
  descriptor: Descriptor;
}

/** JSON with object keys sorted (code point order) at every depth and no whitespace: one encoding per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, o[k]]),
    );
  });
}

export function jsonDocument<T>(value: T, mediaType: string, extra: Partial<Descriptor> = {}): JsonDocument<T> {
  const bytes = Buffer.from(canonicalJson(value), 'utf8');
  return { value, bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length, ...extra } };
}

/** RFC 3339 time of SOURCE_DATE_EPOCH, or 1970-01-01T00:00:00Z. */
export function createdTime(env: NodeJS.ProcessEnv = process.env): string {
  return new Date(sourceDateEpoch(env) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `linux/arm64/v8` → platform object. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) {
    throw new GamelayerError('platform.invalid', `platform "${s}" is not os/arch[/variant]`, 'write it like linux/amd64 or linux/arm64/v8');
  }
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

export interface ConfigLayer {
  diffID: string;
  /** What made the layer, shown by `docker history`, e.g. `gamelayer: app-media layer 3`. */
  createdBy: string;
  comment?: string;
}

export interface ImageConfigInput {
  platform: Platform;
  /** The base image's config; its Env, Labels, WorkingDir, User, ports, diff_ids and history carry over. */
  base?: ImageConfig;
  layers: ConfigLayer[];
  entrypoint?: string[];
  /** Without it, setting an entrypoint drops the base's Cmd (as Dockerfile ENTRYPOINT does). */
  cmd?: string[];
  /** `KEY=VALUE`; a key set here replaces the base's value for it. */
  env?: string[];
  labels?: Record<string, string>;
  workingDir?: string;
  created?: string;
}

/** A base's Env of `null` (as docker writes an unset list) is no variables. */
function mergeEnv(base: string[] | null = [], ours: string[] = []): string[] {
  base ??= [];
  const key = (e: string) => e.split('=', 1)[0]!;
  const replaced = new Set(ours.map(key));
  return [...base.filter((e) => !replaced.has(key(e))), ...ours];
}

export function imageConfig(input: ImageConfigInput): JsonDocument<ImageConfig> {
  const created = input.created ?? createdTime();
  const base = input.base;
  const baseRun = base?.config ?? {};
  const env = mergeEnv(baseRun.Env, input.env);
  const labels = { ...baseRun.Labels, ...input.labels };
  const entrypoint = input.entrypoint ?? baseRun.Entrypoint;
  const cmd = input.cmd ?? (input.entrypoint ? undefined : baseRun.Cmd);
  const config: ImageConfig = {
    created,
    architecture: input.platform.architecture,
    os: input.platform.os,
    ...(input.platform.variant ? { variant: input.platform.variant } : {}),
    config: {
      ...baseRun,
      Env: env.length ? env : undefined,
      Entrypoint: entrypoint,
      Cmd: cmd,
      WorkingDir: input.workingDir ?? baseRun.WorkingDir,
      Labels: Object.keys(labels).length ? labels : undefined,
    },
    rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? []), ...input.layers.map((l) => l.diffID)] },
    history: [
      ...(base?.history ?? []),
      ...input.layers.map((l) => ({ created, created_by: l.createdBy, ...(l.comment ? { comment: l.comment } : {}) })),
    ],
  };
  return jsonDocument(config, CONFIG_MEDIA_TYPE);
}


export function layerDescriptor(l: Pick<BuiltLayer, 'mediaType' | 'digest' | 'size'>): Descriptor {
  return { mediaType: l.mediaType, digest: l.digest, size: l.size };
}

/** The empty JSON config of artifacts (image-spec manifest.md "Guidance for an Empty Descriptor"). */
export const EMPTY_JSON = jsonDocument({}, 'application/vnd.oci.empty.v1+json');

export interface ManifestInput {
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  /** For artifacts attached to an image (e.g. the build record): the image they describe. */
  subject?: Descriptor;
  artifactType?: string;
  /** Copied to the manifest's descriptor, for use in an index. */
  platform?: Platform;
}

export function imageManifest(input: ManifestInput): JsonDocument<ImageManifest> {
  const strip = (d: Descriptor): Descriptor => ({
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations ? { annotations: d.annotations } : {}),
    ...(d.artifactType ? { artifactType: d.artifactType } : {}),
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    ...(input.artifactType ? { artifactType: input.artifactType } : {}),
    config: strip(input.config),
    layers: input.layers.map(strip),
    ...(input.subject ? { subject: strip(input.subject) } : {}),
    ...(input.annotations && Object.keys(input.annotations).length ? { annotations: input.annotations } : {}),
  };
  return jsonDocument(manifest, MANIFEST_MEDIA_TYPE, {
    ...(input.artifactType ? { artifactType: input.artifactType } : {}),
    ...(input.platform ? { platform: input.platform } : {}),
  });
}


/** A multi-platform index; every manifest descriptor must carry its platform. */
export function imageIndex(manifests: Descriptor[], annotations?: Record<string, string>): JsonDocument<IndexDocument> {
  for (const m of manifests) {
    if (!m.platform) throw new GamelayerError('image.index-platform', `image index entry ${m.digest} has no platform`);
  }
  const index: IndexDocument = {
    schemaVersion: 2,
    mediaType: INDEX_MEDIA_TYPE,
    manifests,
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  return jsonDocument(index, INDEX_MEDIA_TYPE);
}
