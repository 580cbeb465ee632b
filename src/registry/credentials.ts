// Where registry credentials come from, in order: explicit values (flags / library options), environment
// variables, then Docker's config.json (`credHelpers`, `auths`, `credsStore`). Secrets are returned to the caller
// only; no message here ever contains one.
import { execFile } from 'node:child_process';
import { GamelayerError, errnoCode } from '../errors.js';
import { decodedAuth, dockerConfigFile, hostEntry, notAString, readDockerConfig } from './docker-config.js';

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
  const file = dockerConfigFile(env, opts.dockerConfigDir);
  const read = await readDockerConfig(file);
  if ('problem' in read) throw new GamelayerError('registry.credentials', read.problem);
  if ('absent' in read) return undefined;
  const { config } = read;
  const helper = configString(file, `credHelpers.${host}`, hostEntry(config.credHelpers, host));
  if (helper) return runCredentialHelper(helper, host, env);
  const entry = hostEntry(config.auths, host);
  if (entry) {
    // Each field a string where present: an `auth` of 5 failed in Buffer.from as error[internal], an object was sent as "[object Object]".
    const [auth, username, password, identitytoken] = (['auth', 'username', 'password', 'identitytoken'] as const).map((field) => configString(file, `auths.${host}.${field}`, entry[field]));
    if (identitytoken) return { identityToken: identitytoken, source: `${file} auths` };
    if (auth) {
      const decoded = decodedAuth(auth);
      if (!decoded) throw new GamelayerError('registry.credentials', `${file}: auths.${host}.auth is not base64 of "user:password"`);
      return { ...decoded, source: `${file} auths` };
    }
    if (username && password) return { username, password, source: `${file} auths` };
  }
  const store = configString(file, 'credsStore', config.credsStore);
  if (store) return runCredentialHelper(store, host, env);
  return undefined;
}

/** A docker config.json field that must be a string where it is set; `where` names it (auths.HOST.auth). */
function configString(file: string, where: string, v: unknown): string | undefined {
  const problem = notAString(file, where, v);
  if (problem) throw new GamelayerError('registry.credentials', problem, 'fix that entry of the docker config (docker login writes it), or remove it');
  return (v as string | null | undefined) ?? undefined;
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
