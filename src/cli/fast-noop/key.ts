// The key of a no-op stamp's command (stamp.ts): the command line, the folder, the environment a build reads, the
// config's text and gamelayer's own code. Computed alike by the full path that writes the stamp and by the fast path
// that compares it, from nothing but Node's own modules.
import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileIdentity } from '../../util/file-identity.js';
import { sha256, type Stamp } from './stamp.js';

/** Off switch for both halves: no stamp is used or written. */
export const OFF_VAR = 'GAMELAYER_NO_FAST_NOOP';
/** Set: the fast path says on stderr why it fell through. Not part of the key. */
export const DEBUG_VAR = 'GAMELAYER_DEBUG_FAST_NOOP';

/**
 * A command line the fast path may answer: `build` first, then only the options below, one `--push` with its
 * repository. Anything else (--json, --platform, --from, --sbom, a second --push, registry flags, global options
 * before `build`) goes to the full path unasked. Returns the config file it names, or undefined.
 */
export function candidateConfig(argv: readonly string[], cwd: string): string | undefined {
  if (argv[0] !== 'build') return undefined;
  let config = 'gamelayer.yaml';
  let pushes = 0;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [name, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (!['-c', '--config', '-t', '--tag', '--line', '--push'].includes(name)) return undefined;
    const value = inline ?? argv[++i];
    // A value that looks like an option: commander's reading of it is not ours to guess.
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    if (name === '--push') pushes++;
    if (name === '-c' || name === '--config') config = value;
  }
  return pushes === 1 ? path.resolve(cwd, config) : undefined;
}

const ENV_PREFIXES = ['GAMELAYER_', 'CODEBUILD_', 'AWS_', 'DOCKER_', 'GIT_', 'NODE_', 'SSL_', 'LC_'];
const ENV_NAMES = new Set(['HOME', 'USERPROFILE', 'XDG_CACHE_HOME', 'SOURCE_DATE_EPOCH', 'CI', 'TMPDIR', 'TZ', 'LANG', 'COLUMNS', 'PATH', 'NO_PROXY', 'no_proxy']);

/**
 * The environment a build can read, whole: gamelayer's own variables (the line, credentials, timeouts), CodeBuild's
 * (tags, line, record fields), AWS's, Docker's (DOCKER_CONFIG), git's (the line from the branch), Node's (CA files,
 * options), locale, time zone, temp folder, PATH (credential helpers) and proxies. A variable added, removed or
 * changed is another key. Per name, an HMAC of its value keyed with the stamp's random `salt`, never the value: the
 * stamp must not hold a password or secret key, nor a hash of one that a guess could be checked against offline.
 */
function keyEnv(env: NodeJS.ProcessEnv, salt: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    if (name === DEBUG_VAR) continue;
    if (ENV_PREFIXES.some((p) => name.startsWith(p)) || ENV_NAMES.has(name) || /_proxy$/i.test(name)) {
      out[name] = createHmac('sha256', salt).update(name).update('\0').update(env[name]!).digest('hex');
    }
  }
  return out;
}

/** A proxy the registry requests would go through: not replicated by the fast path. */
export function usesProxy(env: NodeJS.ProcessEnv): boolean {
  return ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy'].some((n) => env[n]);
}

/**
 * This gamelayer's identity: device, inode, size and times of the bundle's entries and of package.json. Every
 * build of dist/ and every install writes them anew (as config/validated-cache.ts argues).
 */
function codeIdentity(bundleDir: string): string {
  const files = ['launch.js', 'main.js', 'fast-noop.js', '../../package.json'].map((f) => path.join(bundleDir, f));
  return sha256(
    files
      .map((f) => `${f}:${fileIdentity(statSync(f, { bigint: true }))}`)
      .join('\n'),
  );
}

/** The key of this run, to compare with (or write into) a stamp. */
export function runKey(argv: readonly string[], configFile: string, bundleDir: string, env: NodeJS.ProcessEnv, salt: string): Stamp['key'] {
  return {
    argv: [...argv],
    cwd: process.cwd(),
    salt,
    env: keyEnv(env, salt),
    tty: [Boolean(process.stdout.isTTY), Boolean(process.stderr.isTTY)],
    node: `${process.version} ${process.execPath}`,
    code: codeIdentity(bundleDir),
    configFile,
    configSha256: sha256(readFileSync(configFile)),
  };
}

/** The first part of two keys that differs, named; undefined when equal. */
export function keyDifference(a: Stamp['key'], b: Stamp['key']): string | undefined {
  if (JSON.stringify(a.argv) !== JSON.stringify(b.argv)) return 'command line';
  if (a.cwd !== b.cwd) return 'working folder';
  const names = [...new Set([...Object.keys(a.env), ...Object.keys(b.env)])].sort();
  const env = names.find((n) => a.env[n] !== b.env[n]);
  if (env) return `environment variable ${env}`;
  if (a.tty[0] !== b.tty[0] || a.tty[1] !== b.tty[1]) return 'terminal';
  if (a.node !== b.node) return 'Node';
  if (a.code !== b.code) return 'gamelayer code identity';
  if (a.configFile !== b.configFile) return 'config file';
  if (a.configSha256 !== b.configSha256) return 'config text';
  return undefined;
}
