// Where a registry host's credentials come from, before any credential helper runs: GAMELAYER_REGISTRY_USERNAME/
// PASSWORD, then Docker's config.json (read bounded; `credHelpers`, `auths`, `credsStore`). One reading for the
// registry credentials (credentials.ts) and the fast path of a no-op (cli/fast-noop/registry-check.ts), so they
// cannot disagree. Node's own modules only (the fast path's bundle loads this): problems come back as messages,
// the caller makes them errors or reasons to fall through.
import os from 'node:os';
import path from 'node:path';
import { readSmallFile } from '../util/small-file.js';

interface DockerConfig {
  auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }>;
  credsStore?: unknown;
  credHelpers?: Record<string, unknown>;
}

const DOCKER_CONFIG_MAX_BYTES = 4 << 20;

/** config.json in `dir`, else $DOCKER_CONFIG, else ~/.docker (the user's home, whatever $HOME says). */
function dockerConfigFile(env: NodeJS.ProcessEnv, dir?: string): string {
  return path.join(dir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
}

/** The config in `file`; `absent` when there is none; else a message that starts with the file's name. */
async function readDockerConfig(file: string): Promise<{ config: DockerConfig } | { absent: true } | { problem: string }> {
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
function hostEntry<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map) return undefined;
  const h = host.toLowerCase();
  const aliases = h === 'registry-1.docker.io' ? [h, 'index.docker.io', 'docker.io'] : [h];
  for (const [k, v] of Object.entries(map)) if (aliases.includes(k.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase())) return v;
  return undefined;
}

/** Why a field that must be a string where set is not one (`where` names it: auths.HOST.auth); undefined when it is. */
function notAString(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null || typeof v === 'string') return undefined;
  return `${file}: ${where} is ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not a string`;
}

/** An `auth` field's user and password; undefined when it is not base64 of "user:password". */
function decodedAuth(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** What the environment and the docker config say of a host's credentials: the caller runs a helper, or not. */
export type FoundCredentials =
  | { none: true }
  | { username: string; password: string; source: string }
  | { identityToken: string; source: string }
  /** `docker-credential-<helper>`, named for the host (`credHelpers`) or for all (`credsStore`) in `file`. */
  | { helper: string; from: 'credHelpers' | 'credsStore'; file: string }
  | { problem: string; hint?: string };

/** A host's credentials from GAMELAYER_REGISTRY_USERNAME/PASSWORD, else (read only then) the docker config. */
export async function findCredentials(host: string, env: NodeJS.ProcessEnv, dockerConfigDir?: string): Promise<FoundCredentials> {
  const fromEnv = envCredentials(host, env);
  if (fromEnv) return fromEnv;
  const file = dockerConfigFile(env, dockerConfigDir);
  const read = await readDockerConfig(file);
  if ('problem' in read) return read;
  return 'absent' in read ? { none: true } : configCredentials(host, file, read.config);
}

function envCredentials(host: string, env: NodeJS.ProcessEnv): FoundCredentials | undefined {
  const username = env.GAMELAYER_REGISTRY_USERNAME;
  const password = env.GAMELAYER_REGISTRY_PASSWORD;
  if (username && password) return { username, password, source: 'GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD' };
  if (!username && !password) return undefined;
  // One without the other was silently ignored (docker config.json used instead, or no credentials at all).
  const [set, missing] = username ? ['GAMELAYER_REGISTRY_USERNAME', 'GAMELAYER_REGISTRY_PASSWORD'] : ['GAMELAYER_REGISTRY_PASSWORD', 'GAMELAYER_REGISTRY_USERNAME'];
  return { problem: `credentials for ${host}: ${set} is set but ${missing} is not; both are needed`, hint: `set ${missing} too, or unset ${set} (to use docker config.json)` };
}

/** The config's word on `host`, in Docker's order: its credential helper, its `auths` entry, the `credsStore`. */
function configCredentials(host: string, file: string, config: DockerConfig): FoundCredentials {
  // Each field a string where present: an `auth` of 5 failed in Buffer.from as error[internal], an object was sent as "[object Object]".
  const hint = 'fix that entry of the docker config (docker login writes it), or remove it';
  const helper = hostEntry(config.credHelpers, host);
  const helperProblem = notAString(file, `credHelpers.${host}`, helper);
  if (helperProblem) return { problem: helperProblem, hint };
  if (helper) return { helper: helper as string, from: 'credHelpers', file };
  const entry = hostEntry(config.auths, host);
  if (entry) {
    const fields = ['auth', 'username', 'password', 'identitytoken'] as const;
    const problem = fields.map((f) => notAString(file, `auths.${host}.${f}`, entry[f])).find(Boolean);
    if (problem) return { problem, hint };
    const [auth, username, password, identitytoken] = fields.map((f) => entry[f] as string | null | undefined);
    const source = `${file} auths`;
    if (identitytoken) return { identityToken: identitytoken, source };
    if (auth) {
      const decoded = decodedAuth(auth);
      if (!decoded) return { problem: `${file}: auths.${host}.auth is not base64 of "user:password"` };
      return { ...decoded, source };
    }
    if (username && password) return { username, password, source };
  }
  const storeProblem = notAString(file, 'credsStore', config.credsStore);
  if (storeProblem) return { problem: storeProblem, hint };
  return config.credsStore ? { helper: config.credsStore as string, from: 'credsStore', file } : { none: true };
}
