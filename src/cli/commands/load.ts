// gamelayer load: images of the local OCI store into the Docker daemon (streamed docker-save format).
import type { Command } from 'commander';
import { commandConfig, commandReporter, printJson, STORE_FLAG_HELP, warnStartInterpreter, withReadStoreFlag } from '../context.js';

interface LoadFlags {
  tag?: string;
  image?: string;
  trees: boolean;
  store?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('load')
    .description('load a build from the local store into the Docker daemon, so `docker run` works on it')
    .option('-t, --tag <tag>', 'build tag in the store (default: the last build)')
    .option('--image <repo>', 'docker repository name (default: the registry in gamelayer.yaml, else the game name)')
    .option('--no-trees', 'only the server image, not the tree images')
    .option('--store <dir>', STORE_FLAG_HELP)
    .option('--json', 'print the loaded images as JSON on stdout')
    .action(async (flags: LoadFlags, cmd: Command) => {
      const config = await withReadStoreFlag(await commandConfig(cmd), flags.store);
      const reporter = commandReporter(Boolean(flags.json));
      await warnStartInterpreter(config, undefined, reporter);
      const { loadBuild } = await import('../../docker/load.js');
      const loaded = await loadBuild({
        config,
        tag: flags.tag,
        repository: flags.image,
        trees: flags.trees,
        reporter,
      });
      if (flags.json) printJson({ images: loaded });
      else for (const l of loaded) process.stdout.write(`${l.repoTags.join(', ')}  ${l.id}\n`);
    });
}
