// Where registry credentials come from, in order: explicit values (flags / library options), environment
// variables, then Docker's config.json (`credHelpers`, `auths`, `credsStore`). Secrets are returned to the caller
// only; no message here ever contains one.
import { execFile } from 'node:child_process';
import { GamelayerError, errnoCode } from '../errors.js';
import { findCredentials } from './docker-config.js';

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
  const found = await findCredentials(host, env, opts.dockerConfigDir);
  if ('problem' in found) throw new GamelayerError('registry.credentials', found.problem, found.hint);
  if ('helper' in found) return runCredentialHelper(found.helper, host, env);
  return 'none' in found ? undefined : found;
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
