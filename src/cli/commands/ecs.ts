// gamelayer ecs: the last build as an ECS task definition (RegisterTaskDefinition input), images pinned by digest.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { writableRootNotice } from '../../config/deploy.js';
import { GamelayerError } from '../../errors.js';
import { ecsOptionsFromConfig } from '../../ecs/from-deploy.js';
import { checkEcsOptions, ecsJson, ecsTaskDefinition, fitTaskSize, type EcsNetworkMode, type EcsOptions, type EcsVolumeMode, type LaunchType } from '../../ecs/task-definition.js';
import { loadDeployInput, requirePushed } from '../../k8s/input.js';
import { pushedByOthers, pushedByOthersNote } from '../../k8s/pushed-by-others.js';
import { integerOption, portOption, sizeOption } from '../../k8s/options.js';
import { writeOutput } from '../../k8s/output.js';
import { refuseForeignTaskDefinition } from '../../util/generated-file.js';
import { digestOf } from '../../util/image-digest.js';
import { recordOfTagOrFile } from '../build-choice.js';
import { commandConfig, commandReporter, printJson, refuseOutInTrees } from '../context.js';

export const ECS_FILE = 'ecs-task-definition.json';

interface EcsFlags {
  out?: string;
  repository?: string;
  region?: string;
  registry?: string;
  record?: string;
  tag?: string;
  family?: string;
  launchType: string;
  cpu: string;
  memory: string;
  platform?: string;
  port?: string;
  scratch?: string;
  user?: string;
  executionRoleArn?: string;
  taskRoleArn?: string;
  volumes?: string;
  copyRoot?: string;
  local?: boolean;
  networkMode?: string;
  hostPort?: string;
  logGroup?: string;
  logRegion?: string;
  logStreamPrefix?: string;
  logCreateGroup?: boolean;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  stopTimeout?: string;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('ecs')
    .description('write an ECS task definition for the last build (aws ecs register-task-definition --cli-input-json)')
    .option('--out <dir>', `write ${ECS_FILE} into DIR instead of printing it`)
    .option('--repository <repo>', 'repository the images were pushed to (default: registry in gamelayer.yaml, else the one the build was pushed to)')
    .option('--region <region>', 'pin the images to their copy in this AWS region (a push or ECR replication there; same digests, that registry\'s host)')
    .option('--registry <host>', 'pin the images to their copy on this registry host (same digests)')
    .option('--record <file|ref>', 'build record to deploy: a file (default: .gamelayer/records/build-last.json), or a pushed build host/repo:tag (read from the registry: a rollback from a fresh host)')
    .option('-t, --tag <tag>', 'the local build to deploy, by its tag (default: the last build)')
    .option('--family <name>', 'task definition family (default: the game name)')
    .option('--launch-type <type>', 'fargate or ec2', 'fargate')
    // Without either, the task is sized from deploy.resources (below): the help says so, not a bare 1024 / 2048.
    .addOption(new Option('--cpu <units>', 'task CPU units (1024 = one vCPU)').default('1024', '1024, or with neither --cpu nor --memory the smallest size holding deploy.resources'))
    .addOption(new Option('--memory <mib>', 'task memory in MiB').default('2048', '2048, or sized with --cpu as above'))
    .option('--platform <os/arch>', 'which built platform to run (default: the first)')
    .option('--port <port>', 'game port as PORT[/udp|/tcp] (default: 7777/udp)')
    .option('--scratch <size>', 'writable space beside images and copies (default: 1GiB)')
    .option('--user <uid[:gid]>', 'user of the engine container (default: 1000:1000, as the Kubernetes specs; 0 runs it as root)')
    .option('--execution-role-arn <arn>', 'role ECS pulls images and writes logs with')
    .option('--task-role-arn <arn>', 'role the game runs with')
    .option('--volumes <mode>', 'none: the server image as the engine container, every tree in place (a tree mounted at / needs it); init: copy containers copy the trees (default: deploy.volumes, else init)')
    .option('--copy-root <dir>', 'where copy containers mount their target (default: /mnt)')
    .option('--network-mode <mode>', 'awsvpc (the default; the only mode on Fargate), bridge or host (EC2: UDP game servers often use host)')
    .option('--host-port <port>', 'bridge: host port of the game port (0 or unset: ECS picks one)')
    .option('--log-group <name>', 'send every container\'s output to this CloudWatch Logs group (awslogs)')
    .option('--log-region <region>', 'region of the log group (default: the ECR repository\'s)')
    .option('--log-stream-prefix <prefix>', 'awslogs stream prefix (default: the game name)')
    .option('--log-create-group', 'let the awslogs driver create the group')
    .option('--health-cmd <cmd>', 'engine health check: a shell command, exit 0 = healthy')
    .option('--health-interval <s>', 'seconds between checks (5-300; default: 30)')
    .option('--health-timeout <s>', 'seconds a check may take (2-60; default: 5)')
    .option('--health-retries <n>', 'failed checks before unhealthy (1-10; default: 3)')
    .option('--health-start-period <s>', 'seconds of grace after the start (0-300)')
    .option('--stop-timeout <s>', 'seconds between SIGTERM and SIGKILL for the engine (Fargate 2-120; when unset, ECS\'s own: 30)')
    .option('--local', 'skip the check that the images were pushed to the repository')
    .option('--force', `with --out: replace a ${ECS_FILE} gamelayer did not write (a task definition of your own)`)
    .option('--json', 'print the file written and the images pinned (container, reference, digest) as JSON on stdout; without --out, the task definition in it')
    .action(async (flags: EcsFlags, cmd: Command) => {
      const config = await commandConfig(cmd);
      await refuseOutInTrees(config, flags.out, '--out');
      const reporter = commandReporter(Boolean(flags.json));
      // The deploy section of gamelayer.yaml first, flags over it.
      const fromConfig = ecsOptionsFromConfig(config.deploy);
      const options: Partial<EcsOptions> = {
        ...fromConfig.options,
        launchType: flags.launchType as LaunchType,
        cpu: integerOption('--cpu', flags.cpu),
        memory: integerOption('--memory', flags.memory),
      };
      // No --cpu and no --memory: a task that holds the engine deploy.resources asks for (the defaults when they do).
      if (cmd.getOptionValueSource('cpu') === 'default' && cmd.getOptionValueSource('memory') === 'default') {
        const engine = { cpu: options.engineCpu, memory: Math.max(options.engineMemory ?? 0, options.engineMemoryReservation ?? 0) || undefined };
        const size = fitTaskSize(engine, options.launchType!);
        if (size && (size.cpu !== options.cpu || size.memory !== options.memory)) {
          Object.assign(options, size);
          const kind = options.launchType === 'fargate' ? 'the smallest Fargate size' : 'the size';
          fromConfig.notes.push(`task size ${size.cpu} CPU units, ${size.memory} MiB: ${kind} holding deploy.resources (engine ${engine.cpu ?? 0} CPU units, ${engine.memory ?? 0} MiB); --cpu and --memory set it`);
        }
      }
      if (flags.family !== undefined) options.family = flags.family;
      if (flags.platform !== undefined) options.platform = flags.platform;
      if (flags.port !== undefined) options.port = portOption('--port', flags.port);
      if (flags.scratch !== undefined) options.scratchBytes = sizeOption('--scratch', flags.scratch);
      if (flags.user !== undefined) options.engineUser = flags.user;
      if (flags.executionRoleArn !== undefined) options.executionRoleArn = flags.executionRoleArn;
      if (flags.taskRoleArn !== undefined) options.taskRoleArn = flags.taskRoleArn;
      if (flags.volumes !== undefined) options.volumes = flags.volumes as EcsVolumeMode;
      if (flags.copyRoot !== undefined) options.copyRoot = flags.copyRoot;
      if (flags.networkMode !== undefined) options.networkMode = flags.networkMode as EcsNetworkMode;
      if (flags.hostPort !== undefined) options.hostPort = integerOption('--host-port', flags.hostPort);
      // Flags that only shape the log configuration or the health check: without them the task was written as if
      // they had not been given.
      for (const [flag, given, needs] of [
        ['--log-region', flags.logRegion !== undefined, flags.logGroup !== undefined ? undefined : '--log-group'],
        ['--log-stream-prefix', flags.logStreamPrefix !== undefined, flags.logGroup !== undefined ? undefined : '--log-group'],
        ['--log-create-group', flags.logCreateGroup === true, flags.logGroup !== undefined ? undefined : '--log-group'],
        ['--health-interval', flags.healthInterval !== undefined, flags.healthCmd !== undefined ? undefined : '--health-cmd'],
        ['--health-timeout', flags.healthTimeout !== undefined, flags.healthCmd !== undefined ? undefined : '--health-cmd'],
        ['--health-retries', flags.healthRetries !== undefined, flags.healthCmd !== undefined ? undefined : '--health-cmd'],
        ['--health-start-period', flags.healthStartPeriod !== undefined, flags.healthCmd !== undefined ? undefined : '--health-cmd'],
      ] as const) {
        if (given && needs) {
          throw new GamelayerError('deploy.option', `${flag}: needs ${needs}; without it the task has no ${needs === '--log-group' ? 'log configuration' : 'health check'} for it to shape`, `pass ${needs}, or leave ${flag} out`);
        }
      }
      if (flags.logGroup !== undefined) {
        options.logs = { group: flags.logGroup, ...(flags.logRegion ? { region: flags.logRegion } : {}), ...(flags.logStreamPrefix ? { streamPrefix: flags.logStreamPrefix } : {}), ...(flags.logCreateGroup ? { createGroup: true } : {}) };
      }
      if (flags.healthCmd !== undefined) {
        const n = (flag: string, v: string | undefined) => (v === undefined ? undefined : integerOption(flag, v));
        options.health = {
          command: flags.healthCmd,
          intervalSeconds: n('--health-interval', flags.healthInterval),
          timeoutSeconds: n('--health-timeout', flags.healthTimeout),
          retries: n('--health-retries', flags.healthRetries),
          startPeriodSeconds: n('--health-start-period', flags.healthStartPeriod),
        };
      }
      if (flags.stopTimeout !== undefined) options.stopTimeout = integerOption('--stop-timeout', flags.stopTimeout);
      // One of the pair given, the other's default does not fit it: that default was never the user's choice.
      const sayDefault = <T>(make: () => T): T => {
        try {
          return make();
        } catch (e) {
          const defaulted = (['cpu', 'memory'] as const).find((k) => cmd.getOptionValueSource(k) === 'default');
          const other = defaulted === 'cpu' ? 'memory' : 'cpu';
          if (defaulted && cmd.getOptionValueSource(other) !== 'default' && e instanceof GamelayerError && e.code === 'deploy.option' && e.message.includes(`--${defaulted}`)) {
            throw new GamelayerError(e.code, `${e.message} (--${defaulted} ${options[defaulted]} is its default: it was not given)`, `pass --${defaulted} too, or neither --cpu nor --memory: the task is then sized from deploy.resources`);
          }
          throw e;
        }
      };
      // The flags first: a mistyped --launch-type or --network-mode was said only once the registry and record were right.
      sayDefault(() => checkEcsOptions(options));
      const { input, record, recordFile } = await loadDeployInput(config, { recordFile: await recordOfTagOrFile(config, flags, 'deploy.option', 'deploy'), repository: flags.repository, region: flags.region, registry: flags.registry });
      const emission = sayDefault(() => ecsTaskDefinition(input, options));
      // The task runs every tree image (the engine's and one copy per other tree).
      if (!flags.local) {
        const others = await pushedByOthers(config.stateDir, record, input, recordFile);
        const note = pushedByOthersNote(input, requirePushed(record, input, input.trees.map((t) => t.tree), recordFile, others));
        if (note) reporter.info(`note: ${note}`);
      }
      const rootNotice = writableRootNotice(config.deploy);
      for (const n of [...fromConfig.notes, ...emission.notes, ...(rootNotice ? [rootNotice] : [])]) reporter.info(`note: ${n}`);
      const text = ecsJson(emission);
      let file: string | undefined;
      if (flags.out) {
        await refuseForeignTaskDefinition(path.resolve(flags.out, ECS_FILE), flags.force, emission.taskDefinition.family);
        file = await writeOutput(flags.out, ECS_FILE, text);
        reporter.info(`wrote ${file}`);
      } else if (!flags.json) process.stdout.write(text);
      if (flags.json) {
        const images = (emission.taskDefinition.containerDefinitions ?? []).map((c) => {
          const digest = digestOf(c.image!);
          return { container: c.name!, reference: c.image!, ...(digest ? { digest } : {}) };
        });
        printJson({ record: recordFile, family: emission.taskDefinition.family, files: file ? [file] : [], images, ...(file ? {} : { taskDefinition: emission.taskDefinition }) });
      }
    });
}
