// gamelayer push: sends an image from the local OCI store (config.store) to a registry, only what it lacks.
import { Option, type Command } from 'commander';
import { GamelayerError } from '../../errors.js';
import type { PushResult } from '../../registry/push.js';
import { parseReference } from '../../registry/reference.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, commandReporter, printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface PushFlags extends RegistryFlags {
  tag?: string[];
  alsoTag: string[];
  image?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('push')
    .description('push an image from the local store to a registry, sending only the blobs it lacks')
    .argument('<ref>', 'destination host[:port]/repo[:tag], or just a tag to push to the registry named in gamelayer.yaml')
    .option('--also-tag <tag>', 'another tag to set on the destination (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    // -t/--tag names a build's tag in the other commands; kept here, hidden, for old scripts.
    .addOption(new Option('-t, --tag <tag>').hideHelp().argParser((v: string, acc: string[] = []) => [...acc, v]))
    .option('--image <tag|digest>', 'the image in the local store (default: the tag of <ref>)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (ref: string, flags: PushFlags, cmd: Command) => {
      const config = await commandConfig(cmd);
      const to = destination(ref, config.registry, config.file);
      const reporter = commandReporter(Boolean(flags.json));
      const { pushImage } = await import('../../registry/push.js');
      const result = await pushImage({
        layout: config.store,
        to,
        image: flags.image,
        tags: [...flags.alsoTag, ...(flags.tag ?? [])],
        ...(await registryOptions(flags)),
        reporter,
      });
      if (flags.json) printJson(result);
      else process.stdout.write(summary(result));
    });
  addRegistryOptions(cmd);
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
