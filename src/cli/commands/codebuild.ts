// gamelayer codebuild: start and watch AWS CodeBuild builds; write buildspecs and imagedefinitions.json.
import path from 'node:path';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { Command } from 'commander';
import { emitBuildspec, type BuildspecKind } from '../../codebuild/buildspec.js';
import { formatSeconds, parseDuration } from '../../codebuild/duration.js';
import { imageDefinitions, imageDefinitionsJson, writeImageDefinitions } from '../../codebuild/imagedefinitions.js';
import { GamelayerError } from '../../errors.js';

/** The AWS SDK loads only when a CodeBuild command runs: every other command starts without it. */
async function sdk() {
  return { ...(await import('../../codebuild/builds.js')), ...(await import('../../codebuild/client.js')) };
}
import { loadDeployInput, requirePushed } from '../../k8s/input.js';
import { pushedByOthers, pushedByOthersNote } from '../../k8s/pushed-by-others.js';
import { writeOutput } from '../../k8s/output.js';
import type { Reporter } from '../../report/reporter.js';
import { commandConfig, commandReporter, printJson, refuseOutInTrees } from '../context.js';
import { endedJson, followUntilInterrupted, watchOptions, type FollowJson } from './codebuild-follow.js';
import { refuseForeignFile, refuseNonJsonFile } from '../../util/generated-file.js';

interface AwsFlags {
  endpoint?: string;
  region?: string;
}

interface WatchFlags extends AwsFlags {
  timeout?: string;
  pollInterval: string;
  stopOnInterrupt?: boolean;
  batch?: boolean;
  json?: boolean;
}

interface StartFlags extends WatchFlags {
  project: string;
  sourceVersion?: string;
  env: string[];
  watch?: boolean;
}

export function register(program: Command): void {
  const codebuild = program.command('codebuild').description('AWS CodeBuild: start and watch builds, write buildspecs and imagedefinitions.json');

  const aws = (c: Command) =>
    c
      .option('--endpoint <url>', 'CodeBuild endpoint URL (default: GAMELAYER_CODEBUILD_ENDPOINT, else AWS)')
      .option('--region <region>', 'AWS region (default: AWS_REGION or the profile)');
  const watchOptions = (c: Command) =>
    c
      .option('--timeout <duration>', 'stop watching after this long (e.g. 45m, 1h30m); the build keeps running')
      .option('--poll-interval <duration>', 'first wait between polls; grows while nothing changes', '5s')
      .option('--stop-on-interrupt', 'on Ctrl-C (SIGINT) stop the build without asking (the default in non-interactive runs is to leave it running)')
      .option('--json', 'print the build (id, arn, number; once watched, its status and seconds) as JSON on stdout');

  watchOptions(
    aws(
      codebuild
        .command('start')
        .description('start a build of a CodeBuild project; with --watch, follow it and exit 0 only if it succeeds')
        .requiredOption('--project <name>', 'CodeBuild project name')
        .option('--source-version <version>', 'commit, branch, tag or pr/N to build (default: the project\'s)')
        .option('--env <NAME=VALUE>', 'environment variable for this build (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
        .option('--watch', 'follow the build phase by phase until it ends')
        .option('--batch', 'start a batch build (StartBuildBatch: the build graph of the project\'s buildspec, see codebuild buildspec --batch)'),
    ),
  ).action(async (flags: StartFlags) => {
    const env = (await sdk()).parseEnvFlags(flags.env);
    const timeoutMs = flags.timeout !== undefined ? parseDuration('--timeout', flags.timeout) : undefined;
    const pollMs = parseDuration('--poll-interval', flags.pollInterval);
    const reporter = commandReporter(Boolean(flags.json));
    const client = (await sdk()).codebuildClient({ endpoint: flags.endpoint, region: flags.region });
    if (flags.batch) {
      const { startBatch } = await import('./codebuild-batch.js');
      return startBatch(client, { ...flags, env, timeoutMs, pollMs }, reporter);
    }
    const build = await (await sdk()).startBuild({
      client,
      project: flags.project,
      sourceVersion: flags.sourceVersion,
      env,
      retryBaseMs: Math.min(pollMs, 1000),
      onRetry: (m) => reporter.warn(m),
    });
    const started: FollowJson = { id: build.id!, ...(build.arn ? { arn: build.arn } : {}), ...(build.buildNumber !== undefined ? { number: build.buildNumber } : {}), batch: false };
    if (!flags.json) {
      out(`started build ${build.id}`);
      if (build.buildNumber !== undefined) out(`build number ${build.buildNumber}`);
      if (build.arn) out(`arn ${build.arn}`);
    }
    if (!flags.watch) {
      if (flags.json) printJson(started);
      else out(`follow it with: gamelayer codebuild watch ${build.id}`);
      return;
    }
    await follow(client, build.id!, { ...flags, timeoutMs, pollMs }, reporter, started);
  });

  watchOptions(
    aws(
      codebuild
        .command('watch')
        .description('follow a running build (or, with --batch, a batch build and each of its jobs) until it ends; exit 0 only if it succeeds')
        .argument('<id>', 'build id (project:uuid), or batch id / build-batch ARN')
        .option('--batch', 'the id is a batch build\'s (a build-batch ARN says so itself)'),
    ),
  ).action(async (id: string, flags: WatchFlags) => {
    const timeoutMs = flags.timeout !== undefined ? parseDuration('--timeout', flags.timeout) : undefined;
    const pollMs = parseDuration('--poll-interval', flags.pollInterval);
    const client = (await sdk()).codebuildClient({ endpoint: flags.endpoint, region: flags.region });
    const { followBatch } = await import('./codebuild-batch.js');
    const reporter = commandReporter(Boolean(flags.json));
    if (flags.batch || (await import('../../codebuild/batch.js')).isBatchArn(id)) return followBatch(client, id, { ...flags, timeoutMs, pollMs }, reporter, { id, batch: true });
    await follow(client, id, { ...flags, timeoutMs, pollMs }, reporter, { id, batch: false });
  });

  aws(codebuild.command('stop').description('stop a running build (or with --batch, a batch build)').argument('<id>', 'build id (project:uuid)').option('--batch', 'the id is a batch build\'s')).action(async (id: string, flags: AwsFlags & { batch?: boolean }) => {
    const client = (await sdk()).codebuildClient({ endpoint: flags.endpoint, region: flags.region });
    if (flags.batch) {
      const b = await (await import('../../codebuild/batch.js')).stopBuildBatch(client, id);
      out(`stop requested for build batch ${id}: ${b?.buildBatchStatus ?? 'status unknown'}`);
      return;
    }
    const b = await (await sdk()).stopBuild(client, id);
    out(`stop requested for build ${id}: ${b?.buildStatus ?? 'status unknown'}`);
  });

  codebuild
    .command('buildspec')
    .description('write a buildspec that runs gamelayer for this game (paths relative to the current directory, the source root)')
    .option('--out <file>', 'write to FILE instead of printing')
    .option('--docker', 'the Docker daemon path (privileged mode) instead of the daemonless one')
    .option('--pr-check', 'a pull-request check that builds without pushing and prints what a merge would push')
    .option('--batch', 'a batch build (build graph): one job per platform on a host of that architecture, then a merge job (gamelayer index)')
    .option('--sbom', 'the pushed build attaches its CycloneDX SBOM (build --sbom; in a batch, each platform build)')
    .option('--sign <key>', 'the pushed images are signed with this key (build --sign; in a batch, index --sign too): awskms:///<key ARN> (the role needs kms:Sign and kms:GetPublicKey), kept in GAMELAYER_SIGN_KEY')
    .option('--region-also <region...>', 'also push the build to the repository of the same name in these AWS regions (REPOSITORY_URI_<REGION>), with k8s specs and imagedefinitions.json pinned to each copy')
    .option('--force', 'replace an --out file gamelayer did not write (a buildspec of your own)')
    .action(async (flags: { out?: string; docker?: boolean; prCheck?: boolean; batch?: boolean; sbom?: boolean; sign?: string; regionAlso?: string[]; force?: boolean }, cmd: Command) => {
      const kinds = (['docker', 'pr-check', 'batch'] as const).filter((k) => flags[k === 'pr-check' ? 'prCheck' : k]).map((k) => `--${k}`);
      if (kinds.length > 1) throw new GamelayerError('cli.buildspec-kind', `${kinds.join(' and ')}: choose one`);
      const kind: BuildspecKind = flags.docker ? 'docker' : flags.prCheck ? 'pr-check' : 'daemonless';
      const config = await commandConfig(cmd);
      await refuseOutInTrees(config, flags.out, '--out', 'file');
      const text = flags.batch
        ? (await import('../../codebuild/batch-buildspec.js')).emitBatchBuildspec(config, { sourceRoot: process.cwd(), supply: flags, regionsAlso: flags.regionAlso })
        : emitBuildspec(config, { kind, sourceRoot: process.cwd(), supply: flags, regionsAlso: flags.regionAlso });
      if (flags.out) {
        await refuseForeignFile(path.resolve(flags.out), flags.force);
        const file = await writeOutput(path.dirname(flags.out), path.basename(flags.out), text);
        commandReporter(false).info(`wrote ${file}`);
      } else {
        process.stdout.write(text);
      }
    });

  codebuild
    .command('imagedefinitions')
    .description('write imagedefinitions.json (for CodePipeline\'s ECS deploy action) from the last build record')
    .option('--out <file>', 'write to FILE instead of printing', undefined)
    .option('--repository <repo>', 'repository the images were pushed to (default: registry in gamelayer.yaml, else the one the build was pushed to)')
    .option('--region <region>', 'pin the images to their copy in this AWS region (a push or ECR replication there; same digests, that registry\'s host)')
    .option('--registry <host>', 'pin the images to their copy on this registry host (same digests)')
    .option('--record <file|ref>', 'build record: a file (default: .gamelayer/records/build-last.json), or a pushed build host/repo:tag (read from the registry)')
    .option('--server-container <name>', 'one entry: this container runs the combined server image (default: the containers of gamelayer ecs)')
    .option('--local', 'skip the check that the images were pushed to the repository')
    .option('--force', 'replace an --out file that is not JSON')
    .action(async (flags: { out?: string; repository?: string; region?: string; registry?: string; record?: string; serverContainer?: string; local?: boolean; force?: boolean }, cmd: Command) => {
      const config = await commandConfig(cmd);
      await refuseOutInTrees(config, flags.out, '--out', 'file');
      // --region / --registry as for k8s and ecs: a pipeline per region deploys that region's copy.
      const { input, record, recordFile } = await loadDeployInput(config, { recordFile: flags.record, repository: flags.repository, region: flags.region, registry: flags.registry });
      const defs = imageDefinitions(input, { serverContainer: flags.serverContainer });
      if (!flags.local) {
        const others = await pushedByOthers(config.stateDir, record, input, recordFile);
        const note = pushedByOthersNote(input, requirePushed(record, input, flags.serverContainer !== undefined ? ['server'] : input.trees.map((t) => t.tree), recordFile, others));
        if (note) commandReporter(false).info(`note: ${note}`);
      }
      if (flags.out) {
        await refuseNonJsonFile(path.resolve(flags.out), flags.force);
        const file = await writeImageDefinitions(flags.out, defs);
        commandReporter(false).info(`wrote ${file}`);
      } else {
        process.stdout.write(imageDefinitionsJson(defs));
      }
    });
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Watches until the build ends; Ctrl-C offers to stop it. Sets the exit status; throws for a failed build. Under
 * --json the end is `base` with the status (endedJson), not lines.
 */
async function follow(
  client: CodeBuildClient,
  id: string,
  flags: { timeoutMs?: number; pollMs: number; stopOnInterrupt?: boolean; region?: string; json?: boolean },
  reporter: Reporter,
  base: FollowJson,
): Promise<void> {
  const lib = await sdk();
  const build = await followUntilInterrupted({
    noun: 'build',
    id,
    watchAgain: `watch ${id}`,
    stopAgain: `stop ${id}`,
    stopOnInterrupt: flags.stopOnInterrupt,
    watch: (signal) => lib.watchBuild(watchOptions(client, id, flags, signal, reporter, lib.formatWatchEvent)),
    stop: async () => (await lib.stopBuild(client, id))?.buildStatus,
  });
  const secs = build && (await sdk()).buildSeconds(build);
  if (flags.json) return endedJson(base, build && { status: build.buildStatus, seconds: secs, arn: build.arn }, build?.buildStatus === 'SUCCEEDED' || !build ? undefined : (await sdk()).buildFailure(build, flags.region));
  if (!build) return;
  const took = secs !== undefined ? ` in ${formatSeconds(secs)}` : '';
  if (build.buildStatus === 'SUCCEEDED') {
    out(`build ${build.id} SUCCEEDED${took}`);
    return;
  }
  out(`build ${build.id} ${build.buildStatus ?? 'ended'}${took}`);
  throw (await sdk()).buildFailure(build, flags.region);
}

