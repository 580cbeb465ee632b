// Where registry credentials come from, in order: explicit values (flags / library options), environment
// variables, then Docker's config.json (`credHelpers`, `auths`, `credsStore`). Secrets are returned to the caller
// only; no message here ever contains one.
import { execFile } from 'node:child_process';
import { readSmallFile } from '../util/small-file.js';
import os from 'node:os';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** Where these came from, for messages ("--username", "docker config auths", "docker-credential-ecr-login"). */
  source: string;
}

export interface CredentialOptions {
  username?: string;
  password?: string;
  env?: NodeJS.ProcessEnv;
  /** Directory holding config.json; default $DOCKER_CONFIG or ~/.docker. */
  dockerConfigDir?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Docker's config keys may be `host`, `https://host`, `https://host/v1/`: compare by bare host. */
function bareHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

function hostAliases(host: string): string[] {
  const h = host.toLowerCase();
  return h === 'registry-1.docker.io' ? [h, 'index.docker.io', 'docker.io'] : [h];
}

function lookup<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map) return undefined;
  const aliases = hostAliases(host);
  for (const [k, v] of Object.entries(map)) if (aliases.includes(bareHost(k))) return v;
  return undefined;
}

export async function resolveCredentials(host: string, opts: CredentialOptions = {}): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  if (opts.username !== undefined || opts.password !== undefined) {
    if (!opts.username || !opts.password) {
      throw new GamelayerError('registry.credentials', `credentials for ${host}: both a username and a password are needed`);
    }
    return { username: opts.username, password: opts.password, source: 'explicit username/password' };
  }
  if (Boolean(env.GAMELAYER_REGISTRY_USERNAME) !== Boolean(env.GAMELAYER_REGISTRY_PASSWORD)) {
    // One without the other was silently ignored (docker config.json used instead, or no credentials at all).
    const [set, missing] = env.GAMELAYER_REGISTRY_USERNAME ? ['GAMELAYER_REGISTRY_USERNAME', 'GAMELAYER_REGISTRY_PASSWORD'] : ['GAMELAYER_REGISTRY_PASSWORD', 'GAMELAYER_REGISTRY_USERNAME'];
    throw new GamelayerError('registry.credentials', `credentials for ${host}: ${set} is set but ${missing} is not; both are needed`, `set ${missing} too, or unset ${set} (to use docker config.json)`);
  }
  if (env.GAMELAYER_REGISTRY_USERNAME && env.GAMELAYER_REGISTRY_PASSWORD) {
    return {
      username: env.GAMELAYER_REGISTRY_USERNAME,
      password: env.GAMELAYER_REGISTRY_PASSWORD,
      source: 'GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD',
    };
  }
  const dir = opts.dockerConfigDir ?? env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker');
  const file = path.join(dir, 'config.json');
  const config = await readDockerConfig(file);
  if (!config) return undefined;
  const helper = configString(file, `credHelpers.${host}`, lookup(config.credHelpers, host));
  if (helper) return runCredentialHelper(helper, host, env);
  const entry = lookup(config.auths, host);
  if (entry) {
    // Each field a string where present: an `auth` of 5 failed in Buffer.from as error[internal], an object was sent as "[object Object]".
    for (const field of ['auth', 'username', 'password', 'identitytoken'] as const) configString(file, `auths.${host}.${field}`, entry[field]);
    if (entry.identitytoken) return { identityToken: entry.identitytoken, source: `${file} auths` };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new GamelayerError('registry.credentials', `${file}: auths.${host}.auth is not base64 of "user:password"`);
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1), source: `${file} auths` };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source: `${file} auths` };
  }
  const store = configString(file, 'credsStore', config.credsStore);
  if (store) return runCredentialHelper(store, host, env);
  return undefined;
}

/** A docker config.json field that must be a string where it is set; `where` names it (auths.HOST.auth). */
function configString(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null || typeof v === 'string') return v ?? undefined;
  throw new GamelayerError('registry.credentials', `${file}: ${where} is ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not a string`, 'fix that entry of the docker config (docker login writes it), or remove it');
}

const DOCKER_CONFIG_MAX_BYTES = 4 << 20;

async function readDockerConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    // Bounded, a regular file only: a FIFO there would block every push, /dev/zero would be read without end.
    const read = await readSmallFile(file, DOCKER_CONFIG_MAX_BYTES);
    if ('notFile' in read) throw new GamelayerError('registry.credentials', `${file}: cannot read: ${read.notFile}, not a regular file`);
    if ('tooBig' in read) throw new GamelayerError('registry.credentials', `${file}: ${read.tooBig} bytes; a docker config.json is a few KiB (gamelayer reads up to ${DOCKER_CONFIG_MAX_BYTES / (1 << 20)} MiB)`);
    text = read.bytes.toString('utf8');
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new GamelayerError('registry.credentials', `${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new GamelayerError('registry.credentials', `${file}: invalid JSON: ${(e as Error).message}`);
  }
}

/** Runs `docker-credential-<name> get` with the host on stdin (the Docker credential helper protocol). */
export async function runCredentialHelper(name: string, host: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const { stdout, stderr, code, spawnError } = await new Promise<{
    stdout: string;
    stderr: string;
    code: number;
    spawnError?: string;
  }>((resolve) => {
    const child = execFile(program, ['get'], { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      const c = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? 1 : 0;
      resolve({ stdout: String(out), stderr: String(errOut), code: c, spawnError: errnoCode(err) === 'ENOENT' ? 'ENOENT' : undefined });
    });
    // A helper that exits (or closes its stdin) before reading the host: EPIPE here, which as an unhandled 'error'
    // event ended gamelayer with a stack trace. Its exit code and output say what happened.
    child.stdin?.on('error', () => {});
    child.stdin?.end(host);
  });
  if (spawnError) {
    throw new GamelayerError(
      'registry.credential-helper',
      `credential helper ${program} (configured for ${host} in docker config.json) is not on PATH`,
      `install ${program} or remove it from config.json`,
    );
  }
  if (code !== 0) {
    // Helpers say "credentials not found" when they know nothing for this host: continue anonymously.
    if (/not found/i.test(stdout + stderr)) return undefined;
    throw new GamelayerError('registry.credential-helper', `credential helper ${program} failed for ${host} (exit ${code})`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new GamelayerError('registry.credential-helper', `credential helper ${program} printed invalid JSON for ${host}`);
  }
  // JSON, but not the protocol's object of strings (`null` was an error[internal]; an object a "[object Object]" password).
  const stringOrAbsent = (v: unknown) => v === undefined || typeof v === 'string';
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !stringOrAbsent(parsed.Username) || !stringOrAbsent(parsed.Secret)) {
    throw new GamelayerError('registry.credential-helper', `credential helper ${program} printed JSON for ${host} that is not an object with string Username and Secret`);
  }
  if (typeof parsed.Secret !== 'string' || !parsed.Secret) return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret, source: program };
  return { username: typeof parsed.Username === 'string' ? parsed.Username : '', password: parsed.Secret, source: program };
}
