// The documents of a base image (an index's entries, a manifest, a config, a docker-save manifest.json) are someone
// else's: a layout or archive from anywhere, or a registry's answer. Every field gamelayer uses is checked for its
// type before it is used, so a broken or hostile base is refused naming the document and the field (it was an
// internal error, `Cannot read properties of undefined (reading 'map')`), and nothing of the wrong shape is copied
// into the configs of the images built on it (a diff_id "not-a-digest" went into every image's rootfs).
import { GamelayerError } from '../errors.js';
import type { Descriptor } from '../types.js';
import type { ImageConfig } from './image.js';
import { isDigest } from './layout.js';

/** A diff_id: the digest of an uncompressed layer (sha256, or sha512 which the image spec also allows). */
const DIFF_ID = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

function fail(where: string, field: string, problem: string): never {
  throw new GamelayerError('base.json', `${where}: ${field}: ${problem}`);
}

/** The value in words for an error message: its type, or a short string of it. */
function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v).slice(0, 80);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string, field: string): Descriptor {
  if (!isObject(v)) fail(where, field, `${shown(v)}, not a descriptor`);
  if (typeof v.mediaType !== 'string') fail(where, `${field}.mediaType`, `${shown(v.mediaType)}, not a media type`);
  if (typeof v.digest !== 'string' || !isDigest(v.digest)) fail(where, `${field}.digest`, `${shown(v.digest)} is not a sha256 digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) fail(where, `${field}.size`, `${shown(v.size)} is not a byte count`);
  if (v.platform !== undefined && (!isObject(v.platform) || typeof v.platform.os !== 'string' || typeof v.platform.architecture !== 'string')) {
    fail(where, `${field}.platform`, `${shown(v.platform)}, not an os and architecture`);
  }
  return v as unknown as Descriptor;
}

function list(v: unknown, where: string, field: string): unknown[] {
  if (!Array.isArray(v)) fail(where, field, `${shown(v)}, not a list`);
  return v;
}

/** An image index's `manifests`, each a descriptor. */
export function baseIndexEntries(doc: unknown, where: string): Descriptor[] {
  if (!isObject(doc)) fail(where, 'the index', `${shown(doc)}, not an image index`);
  return list(doc.manifests, where, 'manifests').map((m, i) => descriptor(m, where, `manifests[${i}]`));
}

/** An image manifest's config and layers, each a descriptor. */
export function baseManifest(doc: unknown, where: string): { config: Descriptor; layers: Descriptor[] } {
  if (!isObject(doc)) fail(where, 'the manifest', `${shown(doc)}, not an image manifest`);
  const config = descriptor(doc.config, where, 'config');
  const layers = list(doc.layers, where, 'layers').map((l, i) => descriptor(l, where, `layers[${i}]`));
  return { config, layers };
}

const STRINGS = ['User', 'WorkingDir', 'StopSignal'] as const;
const STRING_LISTS = ['Env', 'Entrypoint', 'Cmd'] as const;
const MAPS = ['ExposedPorts', 'Volumes', 'Labels'] as const;

/**
 * An image config with the fields gamelayer carries over checked: platform, diff_ids, the run settings merged into
 * ours (docker writes `null` for an unset list or map), history. The bytes carried over are the base's as they are.
 */
export function baseConfig(doc: unknown, where: string): ImageConfig {
  if (!isObject(doc)) fail(where, 'the config', `${shown(doc)}, not an image config`);
  for (const k of ['architecture', 'os', 'variant'] as const) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') fail(where, k, `${shown(doc[k])}, not a string`);
  }
  if (doc.rootfs !== undefined) {
    if (!isObject(doc.rootfs)) fail(where, 'rootfs', `${shown(doc.rootfs)}, not an object`);
    list(doc.rootfs.diff_ids, where, 'rootfs.diff_ids').forEach((d, i) => {
      if (typeof d !== 'string' || !DIFF_ID.test(d)) fail(where, `rootfs.diff_ids[${i}]`, `${shown(d)} is not a digest`);
    });
  }
  if (doc.history !== undefined && doc.history !== null) {
    list(doc.history, where, 'history').forEach((h, i) => {
      if (!isObject(h)) fail(where, `history[${i}]`, `${shown(h)}, not an object`);
    });
  }
  const run = doc.config;
  if (run !== undefined && run !== null) {
    if (!isObject(run)) fail(where, 'config', `${shown(run)}, not an object`);
    for (const k of STRINGS) if (run[k] !== undefined && run[k] !== null && typeof run[k] !== 'string') fail(where, `config.${k}`, `${shown(run[k])}, not a string`);
    for (const k of STRING_LISTS) {
      if (run[k] === undefined || run[k] === null) continue;
      list(run[k], where, `config.${k}`).forEach((s, i) => {
        if (typeof s !== 'string') fail(where, `config.${k}[${i}]`, `${shown(s)}, not a string`);
      });
    }
    for (const k of MAPS) if (run[k] !== undefined && run[k] !== null && !isObject(run[k])) fail(where, `config.${k}`, `${shown(run[k])}, not an object`);
    if (isObject(run.Labels)) {
      for (const [k, v] of Object.entries(run.Labels)) if (typeof v !== 'string') fail(where, `config.Labels.${k}`, `${shown(v)}, not a string`);
    }
  }
  return doc as unknown as ImageConfig;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** `docker save`'s manifest.json: a list of images, each naming its config and layer files. */
export function dockerManifestEntries(doc: unknown, where: string): DockerManifestEntry[] {
  return list(doc, where, 'the manifest').map((e, i) => {
    const at = `[${i}]`;
    if (!isObject(e)) fail(where, at, `${shown(e)}, not an image entry`);
    if (typeof e.Config !== 'string') fail(where, `${at}.Config`, `${shown(e.Config)}, not a file name`);
    list(e.Layers, where, `${at}.Layers`).forEach((l, j) => {
      if (typeof l !== 'string') fail(where, `${at}.Layers[${j}]`, `${shown(l)}, not a file name`);
    });
    if (e.RepoTags !== undefined && e.RepoTags !== null) {
      list(e.RepoTags, where, `${at}.RepoTags`).forEach((t, j) => {
        if (typeof t !== 'string') fail(where, `${at}.RepoTags[${j}]`, `${shown(t)}, not a name`);
      });
    }
    return e as unknown as DockerManifestEntry;
  });
}
