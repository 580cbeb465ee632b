// The registry options shared by every command that talks to a registry (push, build --push, diff --against).
import { Option, type Command } from 'commander';
import { GamelayerError } from '../errors.js';
import { ECR_ENDPOINT_ENV, isEcrHost, parseEcrHost } from '../registry/ecr-host.js';
import type { PushImageOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import { readBounded } from '../util/read-bounded.js';
import { shellWord } from '../util/shell-word.js';

export interface RegistryFlags {
  insecure?: boolean;
  concurrency?: string;
  username?: string;
  passwordStdin?: boolean;
  /** Refused: only here to point at --password-stdin. */
  password?: string | boolean;
  ecr?: boolean;
  region?: string;
  endpoint?: string;
  createRepo?: boolean;
  scanOnPush?: boolean;
  immutableTags?: boolean;
}

/**
 * `use` is what the command does with the registry. A command that works on images already there (reads, deletes,
 * signs or indexes them) uploads no layers and must not create a repository: --concurrency and --create-repo (with
 * its --scan-on-push, --immutable-tags) are not offered there. They were, and did nothing but create an ECR repository
 * on `ls`, `diff --against` or a dry-run prune.
 */
export function addRegistryOptions(cmd: Command, use: 'push' | 'existing' = 'push'): Command {
  cmd.option('--insecure', 'allow plain HTTP to a registry that is not on this machine');
  if (use === 'push') cmd.option('--concurrency <n>', 'parallel blob uploads, and signatures of build --sign (default: 4; 3 on Amazon ECR)');
  cmd
    .option('--username <user>', 'registry user (or GAMELAYER_REGISTRY_USERNAME; default: docker config.json)')
    .option('--password-stdin', 'read the registry password from stdin')
    .addOption(new Option('--password [password]').hideHelp())
    .option('--ecr', 'treat the registry as Amazon ECR even if its host is not <account>.dkr.ecr.<region>.amazonaws.com (one destination only)')
    .option('--no-ecr', 'treat an ECR host as a plain registry (with --username AWS --password-stdin)')
    .option('--region <region>', 'ECR: AWS region of the ECR API (default: from the host name, else AWS_REGION)')
    .option('--endpoint <url>', 'ECR: another ECR API endpoint (or GAMELAYER_ECR_ENDPOINT)');
  if (use === 'existing') return cmd;
  return cmd
    .option('--create-repo', 'ECR: create the repository if it does not exist')
    .option('--scan-on-push', 'ECR, with --create-repo: scan images on push')
    .option('--immutable-tags', 'ECR, with --create-repo: make tags immutable, but the line tags (gamelayer-line.*) and signature tags (sha256-*)');
}

const REGISTRY_FLAGS: ReadonlySet<string> = new Set(['insecure', 'concurrency', 'username', 'passwordStdin', 'ecr', 'region', 'endpoint', 'createRepo', 'scanOnPush', 'immutableTags']);

/** The registry flags given to `cmd` on its command line, as words a shell reads back (a hint's command repeats them). */
export function givenRegistryFlags(cmd: Command): string[] {
  return cmd.options.flatMap((o) => {
    const name = o.attributeName();
    if (!REGISTRY_FLAGS.has(name) || cmd.getOptionValueSource(name) !== 'cli') return [];
    const value: unknown = cmd.getOptionValue(name);
    // --ecr and --no-ecr share one value: the one that set it is said.
    if (typeof value === 'boolean') return value !== o.negate ? [o.long!] : [];
    return typeof value === 'string' ? [o.long!, shellWord(value)] : [];
  });
}

/** The flags that only mean something to ECR's API (--region also names a region elsewhere: not among them). */
const ECR_ONLY: [keyof RegistryFlags, string][] = [
  ['endpoint', '--endpoint'],
  ['createRepo', '--create-repo'],
  ['scanOnPush', '--scan-on-push'],
  ['immutableTags', '--immutable-tags'],
];

/**
 * Refuses ECR-only flags that no destination would use: none of `destinations` (image references or repositories) is
 * an ECR host and --ecr was not given, or --no-ecr was. They were silently ignored: a local ECR endpoint given with
 * --endpoint but no --ecr built the whole game, then failed on the registry's login with no word of --ecr.
 */
export function checkEcrFlags(flags: RegistryFlags, destinations: string[], env: NodeJS.ProcessEnv = process.env): void {
  if (destinations.length > 1) checkManyEcrFlags(flags, destinations, env);
  if (flags.ecr === true) return;
  const given = ECR_ONLY.filter(([k]) => flags[k] !== undefined && flags[k] !== false).map(([, f]) => f);
  if (given.length === 0) return;
  const named = `${given.join(', ')}: options of Amazon ECR`;
  if (flags.ecr === false) {
    throw new GamelayerError('cli.ecr-flags', `${named}, but --no-ecr treats the registry as a plain one: they would be ignored`, 'drop --no-ecr or those flags');
  }
  const hosts = [...new Set(destinations.map((d) => parseReference(d).registry))];
  if (hosts.length === 0 || hosts.some(isEcrHost)) return;
  const host = hosts.join(', ');
  throw new GamelayerError(
    'cli.ecr-flags',
    `${named}, but ${host} ${hosts.length > 1 ? 'are not ECR hosts' : 'is not an ECR host'} (<account>.dkr.ecr.<region>.amazonaws.com): they would be ignored`,
    `pass --ecr to treat ${host} as ECR (a proxy or a local ECR API endpoint), or drop them`,
  );
}

/**
 * Several destinations share one set of registry flags. Two of them cannot be shared: --ecr treated every destination
 * as ECR (a plain registry among them too: its repository looked up through the ECR API, ECR's token sent to it), and
 * one ECR API endpoint cannot serve ECR hosts of several regions (the SDK signs for one). Refused before anything runs;
 * the per-host ones (--create-repo, --region, …) go to the ECR destinations only, so they stay.
 */
function checkManyEcrFlags(flags: RegistryFlags, destinations: string[], env: NodeJS.ProcessEnv): void {
  const hosts = [...new Set(destinations.map((d) => parseReference(d).registry))];
  if (flags.ecr === true && !hosts.every(isEcrHost)) {
    throw new GamelayerError(
      'cli.ecr-flags',
      `--ecr with ${destinations.length} destinations: it would treat each as Amazon ECR, ${hosts.join(' and ')} alike, and cannot tell which one is`,
      'push the ECR one alone with --ecr (gamelayer build --push HOST/REPO --ecr …), then the others with gamelayer push HOST/REPO:TAG; an ECR host name (<account>.dkr.ecr.<region>.amazonaws.com) needs no --ecr',
    );
  }
  const endpoint = flags.endpoint !== undefined ? '--endpoint' : env[ECR_ENDPOINT_ENV] ? ECR_ENDPOINT_ENV : undefined;
  if (!endpoint || flags.ecr === false) return;
  const regions = new Map<string, string[]>();
  for (const h of hosts) {
    const region = parseEcrHost(h)?.region;
    if (region) regions.set(region, [...(regions.get(region) ?? []), h]);
  }
  if (regions.size > 1) {
    throw new GamelayerError(
      'cli.ecr-flags',
      `${endpoint} names one ECR API endpoint, but the ECR destinations are in ${regions.size} regions (${[...regions].map(([r, h]) => `${r}: ${h.join(', ')}`).join('; ')}): the API calls of all would go to it`,
      `push each region in its own run, with its own ${endpoint} (gamelayer push HOST/REPO:TAG for the others), or drop ${endpoint}`,
    );
  }
}

export type RegistryOptions = Pick<PushImageOptions, 'insecure' | 'concurrency' | 'credentials' | 'ecr'>;

export async function registryOptions(flags: RegistryFlags): Promise<RegistryOptions> {
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
    throw new GamelayerError('cli.concurrency', `--concurrency: expected a whole number from 1 to 64, got "${flags.concurrency}"`);
  }
  if (flags.password !== undefined) {
    throw new GamelayerError(
      'cli.password',
      '--password: a password on the command line would show in ps and in shell history',
      'pipe it in instead: echo "$PASSWORD" | gamelayer push … --username U --password-stdin',
    );
  }
  let credentials: { username?: string; password?: string } = {};
  if (flags.passwordStdin) {
    if (!flags.username) throw new GamelayerError('cli.password-stdin', '--password-stdin needs --username');
    credentials = { username: flags.username, password: (await readStdin()).replace(/\r?\n$/, '') };
  } else if (flags.username) {
    throw new GamelayerError('cli.username', '--username needs --password-stdin (a password on the command line would show in ps)');
  }
  // gamelayer runs on Node 20 by design; the AWS SDK's notice about its future Node 22 floor is not for our users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    insecure: flags.insecure,
    concurrency,
    credentials,
    ecr:
      flags.ecr === false
        ? false
        : {
            force: flags.ecr === true,
            region: flags.region,
            endpoint: flags.endpoint,
            createRepository: flags.createRepo,
            scanOnPush: flags.scanOnPush,
            immutableTags: flags.immutableTags,
          },
  };
}

/** A password or token is a few KiB (an ECR token about 2, a JWT rarely past 8): more is not one. */
const MAX_PASSWORD_BYTES = 64 * 1024;

/**
 * The password piped in, read no further than MAX_PASSWORD_BYTES: `--password-stdin < /dev/zero` (or `yes |`) was
 * read without end, its memory growing until the process was killed.
 */
async function readStdin(): Promise<string> {
  const read = await readBounded(process.stdin, MAX_PASSWORD_BYTES);
  if ('tooBig' in read) {
    throw new GamelayerError(
      'cli.password-stdin',
      `--password-stdin: stdin holds more than ${MAX_PASSWORD_BYTES / 1024} KiB, more than a password or token`,
      'pipe in the password alone: echo "$PASSWORD" | gamelayer … --username U --password-stdin',
    );
  }
  return read.toString('utf8');
}
