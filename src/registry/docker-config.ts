// Docker's config.json as the registry credentials read it (credentials.ts) and as the fast path of a no-op
// checks it (cli/fast-noop/registry-check.ts): where it is, read bounded, which entry names a host, and the rules
// an entry must meet. Node's own modules only (the fast path's bundle loads this): problems come back as messages,
// the caller makes them errors or reasons to fall through.
import os from 'node:os';
import path from 'node:path';
import { readSmallFile } from '../util/small-file.js';

export interface DockerConfig {
  auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }>;
  credsStore?: unknown;
  credHelpers?: Record<string, unknown>;
}

const DOCKER_CONFIG_MAX_BYTES = 4 << 20;

/** config.json in `dir`, else $DOCKER_CONFIG, else ~/.docker (the user's home, whatever $HOME says). */
export function dockerConfigFile(env: NodeJS.ProcessEnv, dir?: string): string {
  return path.join(dir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
}

/** The config in `file`; `absent` when there is none; else a message that starts with the file's name. */
export async function readDockerConfig(file: string): Promise<{ config: DockerConfig } | { absent: true } | { problem: string }> {
  let text: string;
  try {
    // Bounded, a regular file only: a FIFO there would block every push, /dev/zero would be read without end.
    const read = await readSmallFile(file, DOCKER_CONFIG_MAX_BYTES);
    if ('notFile' in read) return { problem: `${file}: cannot read: ${read.notFile}, not a regular file` };
    if ('tooBig' in read) return { problem: `${file}: ${read.tooBig} bytes; a docker config.json is a few KiB (gamelayer reads up to ${DOCKER_CONFIG_MAX_BYTES / (1 << 20)} MiB)` };
    text = read.bytes.toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { absent: true };
    return { problem: `${file}: cannot read: ${(e as Error).message}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { problem: `${file}: invalid JSON: ${(e as Error).message}` };
  }
  // JSON that is no object (null, a list), or maps that are not objects, would be read as fields of nothing.
  const notObject = notAnObject(parsed);
  if (notObject) return { problem: `${file}: ${notObject}, not an object` };
  for (const key of ['auths', 'credHelpers'] as const) {
    const v = (parsed as Record<string, unknown>)[key];
    const not = v === undefined ? undefined : notAnObject(v);
    if (not) return { problem: `${file}: ${key} is ${not}, not an object` };
  }
  return { config: parsed as DockerConfig };
}

/** What `v` is when it is not a plain object (`null`, `a list`, `a string`); undefined when it is one. */
function notAnObject(v: unknown): string | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? undefined : `a ${typeof v}`;
}

/** Docker's config keys may be `host`, `https://host`, `https://host/v1/`: compared by bare host (Docker Hub's aliases too). */
export function hostEntry<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map) return undefined;
  const h = host.toLowerCase();
  const aliases = h === 'registry-1.docker.io' ? [h, 'index.docker.io', 'docker.io'] : [h];
  for (const [k, v] of Object.entries(map)) if (aliases.includes(k.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase())) return v;
  return undefined;
}

/** Why a field that must be a string where set is not one (`where` names it: auths.HOST.auth); undefined when it is. */
export function notAString(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null || typeof v === 'string') return undefined;
  return `${file}: ${where} is ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not a string`;
}

/** An `auth` field's user and password; undefined when it is not base64 of "user:password". */
export function decodedAuth(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
