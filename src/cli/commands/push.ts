// gamelayer push: sends an image from the local OCI store (config.store) to a registry, only what it lacks.
import type { Command } from 'commander';
import { GamelayerError } from '../../errors.js';
import { pushImage, type PushResult } from '../../registry/push.js';
import { parseReference } from '../../registry/reference.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, commandReporter, printJson } from '../context.js';

interface PushFlags {
  tag: string[];
  image?: string;
  json?: boolean;
  insecure?: boolean;
  concurrency?: string;
  username?: string;
  passwordStdin?: boolean;
  ecr?: boolean;
  region?: string;
  endpoint?: string;
  createRepo?: boolean;
  scanOnPush?: boolean;
  immutableTags?: boolean;
}

export function register(program: Command): void {
  program
    .command('push')
    .description('push an image from the local store to a registry, sending only the blobs it lacks')
    .argument('<ref>', 'destination host[:port]/repo[:tag], or just a tag to push to the registry named in gamelayer.yaml')
    .option('-t, --tag <tag>', 'another tag to set on the destination (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--image <tag|digest>', 'the image in the local store (default: the tag of <ref>)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--insecure', 'allow plain HTTP to a registry that is not on this machine')
    .option('--concurrency <n>', 'parallel blob uploads (default 4; 3 on Amazon ECR)')
    .option('--username <user>', 'registry user (or GAMELAYER_REGISTRY_USERNAME; default: docker config.json)')
    .option('--password-stdin', 'read the registry password from stdin')
    .option('--ecr', 'treat the registry as Amazon ECR even if its host is not <account>.dkr.ecr.<region>.amazonaws.com')
    .option('--no-ecr', 'treat an ECR host as a plain registry (with --username AWS --password-stdin)')
    .option('--region <region>', 'ECR: AWS region of the ECR API (default: from the host name, else AWS_REGION)')
    .option('--endpoint <url>', 'ECR: another ECR API endpoint (or GAMELAYER_ECR_ENDPOINT)')
    .option('--create-repo', 'ECR: create the repository if it does not exist')
    .option('--scan-on-push', 'ECR, with --create-repo: scan images on push')
    .option('--immutable-tags', 'ECR, with --create-repo: make tags immutable')
    .action(async (ref: string, flags: PushFlags, cmd: Command) => {
      const config = await commandConfig(cmd);
      const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
        throw new GamelayerError('cli.concurrency', `--concurrency: expected a whole number from 1 to 64, got "${flags.concurrency}"`);
      }
      const to = destination(ref, config.registry, config.file);
      let credentials: { username?: string; password?: string } = {};
      if (flags.passwordStdin) {
        if (!flags.username) throw new GamelayerError('cli.password-stdin', '--password-stdin needs --username');
        credentials = { username: flags.username, password: (await readStdin()).replace(/\r?\n$/, '') };
      } else if (flags.username) {
        throw new GamelayerError('cli.username', '--username needs --password-stdin (a password on the command line would show in ps)');
      }
      const reporter = commandReporter(Boolean(flags.json));
      // gamelayer runs on Node 20 by design; the AWS SDK's notice about its future Node 22 floor is not for our users.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const result = await pushImage({
        layout: config.store,
        to,
        image: flags.image,
        tags: flags.tag,
        insecure: flags.insecure,
        concurrency,
        credentials,
        reporter,
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
      });
      if (flags.json) printJson(result);
      else process.stdout.write(summary(result));
    });
}

/** A bare tag goes to the registry repository named in gamelayer.yaml. */
function destination(ref: string, registry: string | undefined, configFile: string): string {
  if (ref.includes('/')) return ref;
  if (!registry) {
    throw new GamelayerError(
      'cli.no-registry',
      `push ${ref}: no destination: ${configFile} has no "registry"`,
      'give a full reference such as 127.0.0.1:5000/studio/game:v1, or set registry in gamelayer.yaml',
    );
  }
  const r = parseReference(registry);
  return `${r.registry}/${r.repository}:${ref}`;
}

function summary(r: PushResult): string {
  const where = `${r.repository}@${r.digest}`;
  const tags = r.tags.length ? ` as ${r.tags.join(', ')}` : '';
  if (r.upToDate) return `${where}${tags}: already up to date, nothing sent\n`;
  const b = r.blobs;
  return (
    `pushed ${where}${tags}\n` +
    `blobs: ${b.uploaded} uploaded, ${b.mounted} mounted, ${b.skipped} already there (${b.total} total); ${formatBytes(r.bytesSent)} sent\n`
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
