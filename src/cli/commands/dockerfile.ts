// gamelayer dockerfile: writes the server and tree-image Dockerfiles (+ .dockerignore) and, on request, streams
// their deterministic build context (for `docker build -`, e.g. in CodeBuild).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { dockerContext } from '../../dockerfile/context.js';
import { emitDockerfiles } from '../../dockerfile/emit.js';
import { dockerGame, pickPlatform } from '../../dockerfile/game.js';
import { GamelayerError } from '../../errors.js';
import { commandConfig, commandReporter, printJson, refuseOutInTrees, warnConfig, warnStartInterpreter } from '../context.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { assertOutFolder } from '../../util/fs-access.js';
import { refuseForeignFile, refuseNonTarFile } from '../../util/generated-file.js';

interface DockerfileFlags {
  out: string;
  dockerCompat?: string | boolean;
  platform?: string;
  context?: string;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('dockerfile')
    .description('write the multi-stage Dockerfile of the server image, one per tree image and a .dockerignore')
    .option('-o, --out <dir>', 'folder to write them to', 'dockerfiles')
    .option('--docker-compat [when]', 'the variant for Docker 20.10 / the legacy builder (no COPY --link); "auto" asks the daemon')
    .option('--platform <os/arch>', 'platform whose layer plan to follow (default: the first in gamelayer.yaml)')
    .option('--context <file>', 'also write the build context as a tar ("-" for stdout: `... --context - | docker build -`)')
    .option('--json', 'print what was written as JSON on stdout')
    .option('--force', 'replace files of those names that gamelayer did not write (a Dockerfile of your own in --out; a --context file that is not a tar)')
    .action(async (flags: DockerfileFlags, cmd: Command) => {
      const config = await commandConfig(cmd);
      await refuseOutInTrees(config, flags.out, '--out');
      await refuseOutInTrees(config, flags.context, '--context', 'file');
      const toStdout = flags.context === '-';
      // Checked before any work: a game's context is gigabytes of tar, and a terminal would act on its bytes.
      if (toStdout && process.stdout.isTTY) {
        throw new GamelayerError('cli.context-stdout', '--context -: stdout is a terminal; the build context is a tar archive', 'pipe it (gamelayer dockerfile --context - | docker build -) or write a file (--context context.tar)');
      }
      if (toStdout && flags.json) {
        throw new GamelayerError('cli.context-stdout', '--context - with --json: both would go to stdout, the JSON after the tar', 'write the context to a file (--context context.tar) to have the JSON too');
      }
      // A mistyped --platform is said before the start's warning (the usage error followed it).
      pickPlatform(config, flags.platform);
      const reporter = commandReporter(Boolean(flags.json) || toStdout);
      let compat = false;
      if (flags.dockerCompat === 'auto') compat = (await (await import('../../docker/daemon.js')).daemonInfo()).needsCompat;
      else if (flags.dockerCompat === true || flags.dockerCompat === 'yes') compat = true;
      else if (flags.dockerCompat !== undefined) {
        throw new GamelayerError('cli.docker-compat', `--docker-compat ${String(flags.dockerCompat)}: expected no value, "yes" or "auto"`);
      }
      await warnStartInterpreter(config, flags.platform ? [flags.platform] : config.platforms.slice(0, 1), reporter);
      warnConfig(config, reporter);
      const game = await dockerGame(config, { platform: flags.platform, reporter });
      const files = emitDockerfiles(game.input, { compat });
      if (game.input.baseSource) {
        const { loadLocalBaseHint } = await import('../../dockerfile/local-base.js');
        reporter.warn(
          `${config.file}: baseImage: ${game.input.baseSource} is a local image, which the Dockerfiles name ${game.input.baseImage}: docker build looks that name up in the daemon, then on Docker Hub; ` +
            `load it under that name first: ${loadLocalBaseHint(config.baseImage, game.input.baseImage, config.dir)}`,
        );
      }
      const out = path.resolve(flags.out);
      await assertOutFolder(out, '--out');
      // Every file checked before any is written: a refusal leaves --out (and the --context file) as they were.
      for (const f of files) await refuseForeignFile(path.join(out, f.name), flags.force);
      if (flags.context && !toStdout) await refuseNonTarFile(path.resolve(flags.context), flags.force);
      await mkdir(out, { recursive: true });
      for (const f of files) {
        await writeFileAtomic(path.join(out, f.name), f.content);
      }
      if (flags.context) {
        const ctx = await dockerContext(game, { compat });
        if (toStdout) await pipeline(ctx.stream, process.stdout);
        else {
          await writeFileAtomic(path.resolve(flags.context), (tmp) => pipeline(ctx.stream, createWriteStream(tmp)));
        }
      }
      const layers = Object.fromEntries(game.input.trees.map((t) => [t.name, t.layers]));
      if (flags.json) printJson({ out, compat, platform: game.platform, files: files.map((f) => f.name), layers, context: flags.context });
      else if (!toStdout) {
        process.stdout.write(`wrote ${files.map((f) => f.name).join(', ')} to ${out} (${compat ? 'Docker 20.10 compat' : 'BuildKit, COPY --link'}; layers ${Object.entries(layers).map(([t, n]) => `${t} ${n}`).join(', ')})\n`);
        if (flags.context) process.stdout.write(`wrote the build context to ${path.resolve(flags.context)}\n`);
      }
    });
}
