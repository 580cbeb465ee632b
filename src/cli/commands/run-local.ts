// gamelayer run-local: the last build's pod on the local Docker engine (init containers, then the engine).
import type { Command } from 'commander';
import { GamelayerError, isGamelayerError } from '../../errors.js';
import type { K8sOptions } from '../../k8s/options.js';
import { integerOption } from '../../k8s/options.js';
import { CLOSED_STDOUT_STATUS, onClosedStdout } from '../closed-stdout.js';
import { recordOfTagOrFile } from '../build-choice.js';
import { commandConfig, commandReporter } from '../context.js';
import { count } from '../../report/plural.js';

interface RunLocalFlags {
  kind: string;
  volumes?: string;
  env: string[];
  timeout?: string;
  keep?: boolean;
  record?: string;
  tag?: string;
  uid?: string;
  gid?: string;
  publish?: string[];
  network?: string;
  removeLeftovers?: boolean;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export function register(program: Command): void {
  program
    .command('run-local')
    .description('run the last build as its Kubernetes pod on the local Docker engine: copy containers, then the engine; exits with the engine\'s code')
    .argument('[args...]', 'replace the engine\'s start command (after --); the tree guard still runs first')
    .option('--kind <kind>', 'the workload whose pod runs: pod, deployment, gameserver or fleet (one pod either way)', 'pod')
    .option('--volumes <mode>', 'none: the server image alone; init: copy containers fill the trees; image: image volumes, emulated with Docker volumes filled from the tree images (default: per kind, as gamelayer k8s: init for a build with a chunked tree)')
    .option('-e, --env <K=V>', 'environment variable for the engine container (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--timeout <duration>', 'stop the run after this long (90s, 5m, 1h), counted from the first container; fails the run')
    .option('--keep', 'keep the containers and volumes afterwards, for docker logs / docker inspect')
    // Collected, to refuse a second: the engine has one game port, and `-p 7777 -p 7778` (docker's way to publish
    // several) published 7778 alone, without a word.
    .option('-p, --publish <port>', "publish the engine's game port on 127.0.0.1:PORT (once: the engine has one game port)", (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--network <name>', "the engine's Docker network: default (Docker's bridge), none, host or a network name", 'default')
    .option('--record <file>', 'build record to run (default: .gamelayer/records/build-last.json)')
    // -t names a build's tag as in build, load and gc: `run-local --tag v1` after `load --tag v1` was an unknown option.
    .option('-t, --tag <tag>', 'the local build to run, by its tag (default: the last build)')
    .option('--uid <uid>', 'user id of every container; 0 runs as root (default: 1000, as gamelayer k8s)')
    .option('--gid <gid>', 'group id and fsGroup (default: 1000)')
    .option('--remove-leftovers', "remove the containers and volumes earlier runs of this game left (killed before they cleaned up, or --keep), keeping any run whose run-local is still going; runs nothing")
    .action(async (args: string[], flags: RunLocalFlags, cmd: Command) => {
      if (flags.removeLeftovers) {
        if (args.length > 0) throw new GamelayerError('run.option', `--remove-leftovers runs nothing, so it takes no start command (got ${args.join(' ')})`, 'run it alone, then run-local again');
        // Every option of a run was taken and dropped without a word (-p, --keep, --tag …): refused as the start command is.
        const given = cmd.options.filter((o) => o.attributeName() !== 'removeLeftovers' && ['cli', 'env'].includes(cmd.getOptionValueSource(o.attributeName()) ?? ''));
        if (given.length > 0) {
          throw new GamelayerError('run.option', `--remove-leftovers runs nothing, so it takes no run option (got ${given.map((o) => o.long ?? o.short).join(', ')})`, 'run it alone (with -c FILE if needed), then run-local again');
        }
        await removeLeftoversOnly(cmd);
        return;
      }
      if (flags.publish && flags.publish.length > 1) {
        throw new GamelayerError(
          'run.option',
          `--publish given ${flags.publish.length} times (${flags.publish.join(', ')}): it publishes the engine's one game port on 127.0.0.1:PORT`,
          'give -p once; to reach the server on another host port too, forward it (socat, or docker run -p of your own)',
        );
      }
      const config = await commandConfig(cmd);
      const reporter = commandReporter(false);
      const recordFile = await recordOfTagOrFile(config, flags, 'run.option', 'run');
      // Heavy modules (dockerode) load only here: the CLI starts fast for every other command.
      const { runLocal, removeLeftoversCommand, durationMs, envEntry, portNumber, prefixedLogSink } = await import('../../runlocal/index.js');
      const k8s: Partial<K8sOptions> = { kind: flags.kind as K8sOptions['kind'] };
      if (flags.volumes !== undefined) k8s.volumes = flags.volumes as K8sOptions['volumes'];
      if (flags.uid !== undefined) k8s.runAsUser = integerOption('--uid', flags.uid);
      if (flags.gid !== undefined) k8s.runAsGroup = integerOption('--gid', flags.gid);
      const env = flags.env.map((e) => envEntry('--env', e));
      const timeoutMs = flags.timeout === undefined ? undefined : durationMs('--timeout', flags.timeout);
      const publishPort = flags.publish?.[0] === undefined ? undefined : portNumber('--publish', flags.publish[0]);

      const controller = new AbortController();
      const hurry = new AbortController();
      let signalled: NodeJS.Signals | undefined;
      let signals = 0;
      let runId: string | undefined;
      // 1st signal: stop gracefully and clean up; 2nd: kill the running container, still clean up; 3rd: quit.
      // A second signal often comes from no person at all (timeout(1) signals the process and its group, npm
      // forwards the Ctrl-C the terminal sent to the group too): quitting on it left the run's containers behind.
      const onSignal = (sig: NodeJS.Signals) => {
        // The terminal closed (an ssh session dropped): nobody reads stderr any more, and a write to the gone
        // terminal must not end the run before it removed its containers.
        if (sig === 'SIGHUP') process.stderr.on('error', () => {});
        const again = sig === 'SIGINT' ? 'Ctrl-C' : sig;
        signals += 1;
        if (signals >= 3) {
          process.stderr.write(`${sig} again: quitting without cleaning up${runId ? `; remove what is left with: ${removeLeftoversCommand(config.file)}` : ''}\n`);
          process.exit(128 + (SIGNAL_NUMBERS[sig] ?? 1));
        }
        if (signals === 2) {
          process.stderr.write(`${sig} again: killing the running container now, then removing the run's containers and volumes (${again} once more to quit at once, leaving them)\n`);
          hurry.abort(sig);
          return;
        }
        signalled = sig;
        process.stderr.write(`${sig}: stopping the run and removing its containers and volumes (${again} again to kill the running container at once)\n`);
        controller.abort(sig);
      };
      // SIGHUP too: Node's default for it is to exit at once, leaving the engine running and every volume behind.
      process.on('SIGHUP', onSignal);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Whoever reads the logs went away (run-local | head): the run stops as on Ctrl-C, its containers and volumes
      // removed, then exits as a program killed by SIGPIPE. It exited at once and left them behind.
      let stdoutClosed = false;
      onClosedStdout(() => {
        stdoutClosed = true;
        controller.abort('stdout closed');
      });
      try {
        const result = await runLocal({
          config,
          recordFile,
          k8s,
          env,
          args: args.length > 0 ? args : undefined,
          timeoutMs,
          keep: flags.keep,
          publishPort,
          network: flags.network,
          signal: controller.signal,
          hurry: hurry.signal,
          reporter,
          logs: prefixedLogSink(),
          onPlan: (_plan, id) => {
            runId = id;
            reporter.info(`run ${id}: containers and volumes labelled dev.gamelayer.run-local=${id}`);
          },
        });
        reporter.info(`engine started ${(result.engineStartMs / 1000).toFixed(2)} s after the pod (${count(result.plan.init.length, 'init container')}, ${count(result.plan.volumes.length, 'volume')})`);
        if (result.exitCode === 0) reporter.info(`container ${result.plan.engine.name} exited with code 0`);
        else {
          // As every error: code, message, hint. The exit status stays the engine's own (README).
          process.stderr.write(`error[run.engine-exit]: container ${result.plan.engine.name} exited with code ${result.exitCode}\n`);
          process.stderr.write(`hint: ${engineExitHint(result.plan.engine.name, result.exitCode, config.baseImage)}\n`);
        }
        process.exitCode = result.exitCode;
      } catch (e) {
        if (stdoutClosed && isGamelayerError(e) && e.code === 'run.interrupted') process.exit(CLOSED_STDOUT_STATUS);
        if (signalled && isGamelayerError(e) && e.code === 'run.interrupted') {
          process.stderr.write(`error[${e.code}]: ${e.message}\n`);
          // Everything the run created is removed by now; an image load still streaming must not keep us waiting.
          process.exit(128 + (SIGNAL_NUMBERS[signalled] ?? 1));
        }
        throw e;
      } finally {
        process.off('SIGHUP', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        onClosedStdout(undefined);
      }
      // The engine ended on its own before the stop took effect: everything is removed, and stdout is gone.
      if (stdoutClosed) process.exit(CLOSED_STDOUT_STATUS);
    });
}

/** What an engine's exit code usually means, and where to look. */
function engineExitHint(name: string, code: number, baseImage: string): string {
  const where = `its output is above, each line prefixed [${name}]; --keep keeps the container to inspect`;
  // On scratch a start script's interpreter (#!/bin/sh) is in no layer: Docker says "exec <start>: no such file or
  // directory" of a file that is there, which sent users looking for a missing start script.
  if (baseImage === 'scratch') return `${where}. baseImage is scratch: "exec …: no such file or directory" there means the start command is a script whose interpreter (#!/bin/sh) no layer holds; set baseImage to an image with a shell, or start a static binary`;
  if (code === 137) return `137 is a SIGKILL: out of memory (raise deploy.resources limits) or killed from outside; ${where}`;
  if (code === 143) return `143 is a SIGTERM: stopped from outside (--timeout?); ${where}`;
  if (code === 126 || code === 127) return `${code}: the command could not be run (not found or not executable in the image); ${where}`;
  return where;
}

/** `run-local --remove-leftovers`: what earlier runs left, removed run by run; a run still going is kept and said. */
async function removeLeftoversOnly(cmd: Command): Promise<void> {
  const config = await commandConfig(cmd);
  const reporter = commandReporter(false);
  const { leftoverFailure, removeLeftovers } = await import('../../runlocal/index.js');
  const { connectDocker } = await import('../../docker/daemon.js');
  const r = await removeLeftovers(connectDocker(), config.game);
  for (const x of r.removed) reporter.info(`removed run ${x.run}: ${count(x.containers.length, 'container')}, ${count(x.volumes.length, 'volume')}`);
  for (const x of r.kept) reporter.info(`kept run ${x.run}: ${x.why}`);
  if (r.removed.length + r.kept.length + r.failed.length === 0) reporter.info(`no containers or volumes of earlier runs of ${config.game} in the daemon`);
  const failure = leftoverFailure(r);
  if (failure) throw failure;
}
