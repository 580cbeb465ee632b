import path from 'node:path';
import { Option, type Command } from 'commander';
import type { BuildResult } from '../../pipeline/build.js';
import type { PushBuildResult } from '../../pipeline/steps/push.js';
import type { PushTarget } from '../../registry/target.js';
import type { PushBuildToManyResult, TargetOutcome } from '../../pipeline/steps/push-many.js';
import { outcomeText } from '../../pipeline/steps/push-outcome.js';
import { baseMoveText } from '../../pipeline/base-move.js';
import type { DockerBuildResult } from '../../docker/daemon-build.js';
import type { AttachResult } from '../../supply/build-attach.js';
import type { SbomRecord } from '../../sbom/cyclonedx.js';
import type { BuildRecord } from '../../types.js';
import { GamelayerError } from '../../errors.js';
import { formatBytes, formatRate } from '../../report/reporter.js';
import { armBuildInterrupt, pushCommandOf } from '../build-interrupt.js';
import { rerunCommandOf } from '../supply-interrupt.js';
import { pendingStamp } from '../fast-noop/output-tap.js';
import { commandConfig, commandReporter, printJson, warnConfig, warnStartInterpreter } from '../context.js';
import { addRegistryOptions, checkEcrFlags, registryOptions, type RegistryFlags } from '../registry-flags.js';
import { table } from '../table.js';
import { assertOutFolder } from '../../util/fs-access.js';
import { count } from '../../report/plural.js';
import { printable } from '../../report/printable.js';

interface BuildFlags extends RegistryFlags {
  mediaWait?: string;
  from?: string;
  line?: string;
  builder: string;
  dockerCompat?: boolean;
  push?: string[];
  /** --no-replication: push to every target even where ECR replication would copy it. */
  replication: boolean;
  tag?: string;
  rebase?: boolean;
  platform?: string[];
  out?: string;
  store?: string;
  compression?: 'gzip' | 'zstd';
  json?: boolean;
  sbom?: boolean;
  sign?: string;
}

/** What a bare --push holds until the config is read: no repository reference is empty. */
const CONFIG_REGISTRY = '';

function configRegistry(registry: string | undefined, configFile: string): string {
  if (registry) return registry;
  throw new GamelayerError(
    'cli.no-registry',
    `--push without a repository: ${configFile} has no "registry"`,
    'give one (--push 127.0.0.1:5000/studio/game), or set registry in gamelayer.yaml',
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('build')
    .description('build the server image and one image per tree into the local OCI layout; unchanged layers are reused')
    .option('-t, --tag <tag>', 'server image tag; tree images get <tag>-<tree> (default: in CodeBuild the first 8 characters of the commit, else build-<number>; elsewhere version from the config, else latest)')
    .option('--platform <platform...>', 'build only these of the config\'s platforms')
    .option('--store <dir>', 'OCI image layout directory (default: store from the config, .gamelayer/oci)')
    // --out names generated files elsewhere (dockerfile, k8s, ecs, codebuild); kept here, hidden, for old scripts.
    .addOption(new Option('--out <dir>').hideHelp())
    .option('--compression <kind>', 'gzip or zstd (default: layers.compression from the config)')
    .option('--builder <builder>', 'daemonless (our own layers, OCI layout) or docker (the emitted Dockerfiles through the Docker daemon)', 'daemonless')
    .option('--docker-compat', 'with --builder docker: the Dockerfile variant for Docker < 23 (no COPY --link); default: from the daemon version')
    .option(
      '--from <ref>',
      'the previous build: the image host/repo:tag (its record is read from the registry; kept layers are not downloaded), ' +
        'host/repo (the newest build of the line of work there), or none (default: with --push, the newest build of the line in the repository pushed to; else the last local build)',
    )
    .option('--line <name>', 'line of work (branch) whose previous build --push uses and moves (default: GAMELAYER_LINE, CODEBUILD_WEBHOOK_HEAD_REF, the git branch, else "default")')
    .option('--rebase', 'plan every tree afresh instead of adding patch layers to the previous build')
    .addOption(
      new Option(
        '--push [repository]',
        'then push every image and the build record to host[:port]/repo (only the blobs it lacks; without a repository: registry from the config); repeat it to push to several repositories (one per region) in one run: each blob read once, uploaded once per registry',
      )
        // A bare --push stands for the config's registry, resolved once the config is read.
        .preset(CONFIG_REGISTRY)
        .argParser((v: string, acc: string[] = []) => [...acc, v]),
    )
    .option(
      '--media-wait <duration>',
      'with --platform P --push, when other hosts build the game\'s other platforms at the same time (a CodeBuild batch graph): send this platform\'s share of the shared media layers, wait up to this long (e.g. 5m) for the others\' shares, then send what is still missing',
    )
    .option('--no-replication', 'with several --push: push to every target, even to a region ECR replication copies the first one to')
    .option('--sbom', 'with --push: attach a CycloneDX SBOM (every file with its sha256) to the server image')
    .option('--sign <key>', 'with --push: sign every image (and the SBOM) with this key: a PEM file or awskms:///<key ARN>')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: BuildFlags, cmd: Command) => {
      if (flags.compression && flags.compression !== 'gzip' && flags.compression !== 'zstd') {
        throw new GamelayerError('cli.compression', `--compression ${flags.compression}: expected gzip or zstd`);
      }
      if ((flags.sbom || flags.sign) && (!flags.push || flags.builder === 'docker')) {
        const flag = `--${flags.sbom ? 'sbom' : 'sign'}`;
        throw flags.push
          ? new GamelayerError('cli.needs-push', `${flag} works with the daemonless builder: the SBOM is read from its layers`, `drop --builder docker, or sign the pushed images with gamelayer sign REF --key KEY`)
          : new GamelayerError('cli.needs-push', `${flag} goes with --push REPO: the SBOM and signatures are attached in the registry`);
      }
      // The daemonless builder writes no Dockerfile: the variant flag would do nothing there.
      if (flags.dockerCompat && flags.builder !== 'docker') {
        throw new GamelayerError('cli.docker-compat', '--docker-compat goes with --builder docker: it picks the Dockerfile variant the Docker daemon builds', 'pass --builder docker, or drop --docker-compat (gamelayer dockerfile --docker-compat writes that variant)');
      }
      const given = flags.push ?? [];
      // Every destination is checked before anything runs: a typo found by the registry lookup left the scan
      // hashing every tree before the command could exit.
      if (given.some((repo) => repo !== CONFIG_REGISTRY)) {
        const { parseReference } = await import('../../registry/reference.js');
        for (const repo of given) if (repo !== CONFIG_REGISTRY) parseReference(repo);
      }
      const config = await commandConfig(cmd);
      const pushTo = given.map((repo) => (repo === CONFIG_REGISTRY ? configRegistry(config.registry, config.file) : repo));
      checkEcrFlags(flags, pushTo);
      const mediaWaitMs = flags.mediaWait !== undefined ? (await import('../../codebuild/duration.js')).parseDuration('--media-wait', flags.mediaWait) : undefined;
      // --media-wait shares the media layers between hosts that each build one platform and push: alone it did nothing.
      if (flags.mediaWait !== undefined && !pushTo.length) {
        throw new GamelayerError('cli.needs-push', '--media-wait goes with --push REPO and --platform P: the hosts of a batch graph share media layers in the registry');
      }
      if (flags.mediaWait !== undefined && !flags.platform?.length) {
        throw new GamelayerError('cli.usage', '--media-wait goes with --platform P: it is for a host that builds one of the game\'s platforms while others build the rest', 'pass --platform, or drop --media-wait: a build of every platform sends everything itself');
      }
      // The first --push is where the build plans (its line's previous build) and what the docker builder tags.
      const primary = pushTo[0];
      if (pushTo.length > 1 && flags.builder === 'docker') {
        throw new GamelayerError('cli.push-targets', `--builder docker pushes to one repository; ${pushTo.length} --push given`, 'build daemonless (the default) to push to several repositories in one run, or push the others with gamelayer push');
      }
      // The replication bound of a push to several repositories, read before the scan (a bad value failed after the push).
      const replicationTimeoutMs = pushTo.length > 1 && flags.replication ? (await import('../../registry/replication-timeout.js')).replicationTimeoutMs() : undefined;
      const reporter = commandReporter(!!flags.json);
      if (flags.builder === 'docker') {
        // Heavy modules load only on the path that needs them: a CLI start stays fast.
        const { buildWithDocker, checkDockerBuildFlags } = await import('../../docker/daemon-build.js');
        // A mistyped flag is said before the start's warning (which the usage error then followed).
        if ((flags.platform?.length ?? 0) > 1) {
          // The daemon builds one platform a run: the others were silently left out.
          throw new GamelayerError('docker.platform', `--platform ${flags.platform!.join(' ')}: --builder docker builds one platform a run; expected one of ${config.platforms.join(', ')}`, 'run one build per platform, or build daemonless (the default) for several');
        }
        checkDockerBuildFlags(config, flags.tag, flags.platform?.[0]);
        await warnStartInterpreter(config, flags.platform, reporter);
        warnConfig(config, reporter);
        const result = await buildWithDocker({
          config,
          tag: flags.tag,
          repository: primary,
          push: !!primary,
          compat: flags.dockerCompat,
          platform: flags.platform?.[0],
          reporter,
        });
        if (flags.json) printJson(result);
        else process.stdout.write(`${dockerText(result)}\n`);
        return;
      }
      if (flags.builder !== 'daemonless') {
        throw new GamelayerError('cli.builder', `--builder ${flags.builder}: expected daemonless or docker`);
      }
      // Inside CodeBuild: the commit's first 8 hex digits as the default tag (as the seed pipeline did); its revision,
      // source repository and build ARN in the record, not in the images: a label would give every image a new digest
      // with each commit (a docs-only one too), and every Deployment and Fleet would roll with nothing to deliver.
      const { codebuildEnvironment } = await import('../../codebuild/environment.js');
      const codebuild = codebuildEnvironment(process.env);
      // A build of one platform of several, pushed: it tags <tag>-<os>-<arch>, and `gamelayer index` merges.
      const { checkBuildPlatforms, checkBuildTag, platformBuildTag } = await import('./platform-build.js');
      const platformTag = platformBuildTag(config, flags.platform, primary, flags.tag ?? codebuild?.defaultTag);
      // The tag the build takes, and its platforms, checked before anything else is read or warned of (the start's
      // warning came first, then the usage error); build() checks them again for the library's callers.
      const baseTag = flags.tag ?? codebuild?.defaultTag ?? config.version ?? 'latest';
      const pushTag = platformTag ?? baseTag;
      checkBuildTag(pushTag);
      checkBuildPlatforms(config, flags.platform ?? config.platforms);
      const store = flags.store ?? flags.out;
      if (store) await assertOutFolder(path.resolve(store), flags.store ? '--store' : '--out');
      // The key is read before the build: a wrong path or passphrase fails fast, not after the push. A KMS key is
      // asked for its public key now (kept for signing) and signs a probe: no access (kms:GetPublicKey or kms:Sign),
      // an unknown or an RSA key fails before the push.
      const keys = flags.sign ? await import('../../sign/keys.js') : undefined;
      const signer = flags.sign ? await keys!.signerFor(flags.sign) : undefined;
      if (signer) await keys!.proveSigner(signer);
      // Also for a base image in a registry: it is read with the options (and credentials) of a push.
      const registry = await registryOptions(flags);
      const previousSteps = primary || flags.from ? await import('../../pipeline/steps/previous.js') : undefined;
      const lineOf = flags.line !== undefined ? { line: flags.line, from: '--line' } : previousSteps ? await previousSteps.defaultLine(config.dir) : undefined;
      const line = lineOf?.line;
      // The registry's previous build is asked for now: once its first questions are asked (its client made; with
      // this host's copy of the line's record, that copy read and its layers asked about too), the event loop runs
      // once more so that they go out, and their round trip overlaps the loading of the build's modules that follows
      // (start-up, issue 17).
      // The tags the push will set (pushTag) are asked with the kept layers.
      // From here to the end of the push a stop says what the build did and that nothing was pushed, then that the
      // build is done, then what went up; with --sbom or --sign, then what of them is not attached yet.
      const buildStop = primary ? armBuildInterrupt(reporter, pushTo, pushCommandOf(cmd, flags), { sbom: Boolean(flags.sbom), sign: Boolean(signer), rerun: rerunCommandOf(cmd, flags.tag === undefined ? baseTag : undefined) }) : undefined;
      // Disarmed however the command ends: a stop while an error between the build and the push is printed said
      // "after the build, before the push".
      try {
        let previousLookup = previousSteps?.startPreviousLookup({
          rebase: flags.rebase,
          from: flags.from,
          push: primary,
          line: line ?? 'default',
          registry,
          copyDir: previousSteps.lineCopyDir(config.stateDir),
          recordCache: previousSteps.recordBlobCacheDir(config.stateDir),
          askTags: pushTo.length === 1 ? previousSteps.pushedTags(pushTag) : undefined,
        });
        if (previousLookup) {
          await previousLookup.asking;
          await new Promise((resolve) => setImmediate(resolve));
        }
        // Checked once the lookup's questions are out (their round trip overlaps it): a warning, before the build.
        await warnStartInterpreter(config, flags.platform, reporter);
        warnConfig(config, reporter);
        const { build } = await import('../../pipeline/build.js');
        // A `build --push` the fast path may answer next time: its trees walked now, before the build reads them
        // (loaded after the pipeline, whose packs hold what the recorder imports).
        const stamping = primary && !flags.json && pendingStamp() ? await (await import('../fast-noop/record.js')).beginNoopStamp(config, pushTo, lineOf?.from) : undefined;
        let result: BuildResult | undefined = await build({
          config,
          tag: platformTag ?? flags.tag ?? codebuild?.defaultTag,
          codebuildArn: codebuild?.buildArn,
          revision: codebuild?.resolvedSourceVersion,
          sourceUrl: codebuild?.sourceRepoUrl,
          platforms: flags.platform,
          out: store,
          compression: flags.compression,
          rebase: flags.rebase,
          from: flags.from,
          push: primary,
          line,
          // The stamp pass (fast-noop/stamp-pass.ts) leaves the re-run note to its stamp and the pointer as it is.
          stampPass: pendingStamp()?.pass ? pendingStamp()!.passOf : undefined,
          registry,
          previousLookup,
          reporter: buildStop?.reporter ?? reporter,
        }).then(
          (built) => {
            buildStop?.built(built.record.tags[0]!);
            return built;
          },
          (e: unknown) => {
            buildStop?.off();
            throw e;
          },
        ).catch(async (e: unknown) => {
          // Several --push: the first is where the build plans. With it unreachable nothing is pushed anywhere, though
          // a target that fails later gets none while the others are pushed: say which one it was and what to do.
          const lookupFailed = previousLookup !== undefined && (await previousLookup.result.then(() => false, () => true));
          if (pushTo.length > 1 && lookupFailed && e instanceof GamelayerError && /^registry\.(unreachable|network|unknown-host|tls)/.test(e.code)) {
            throw new GamelayerError(
              e.code,
              `${e.message} (the first --push, ${primary}, is where this build reads its previous build: nothing was pushed)`,
              `${e.hint ? `${e.hint} Meanwhile` : 'Meanwhile'}, to push the other repositories, give one of them first (--push ${pushTo[1]} --push …): the build plans on its line there`,
              { cause: e },
            );
          }
          throw e;
        });
        // Its answer holds the previous build's record (a registry's, 60 MiB of packed entries at 1M) that nothing reads
        // any more: not kept through the push, the SBOM and the signatures.
        previousLookup = undefined;
        // A host with no build of its own (a new clone) and a registry in the config, building without --push: the
        // registry's builds were not read, so this one is laid out afresh, and a later push of it sends whole trees.
        const prev = result.summary.previous;
        if (!primary && !flags.from && !flags.rebase && prev.source === 'none' && config.registry) {
          reporter.info(`note: ${config.registry} (registry in ${path.basename(config.file)}) was not read: without --push a build plans on .gamelayer/ only; build --push (or --from ${config.registry}) plans on its newest build of the line, so a push sends only the change`);
        }
        // One platform's build of several names no line (record.ts): the record pushed is the one written here.
        let pushRecord: BuildRecord | undefined = result.record;
        // A signed build to a repository whose signature tags are immutable stops here, before any byte goes up.
        const primaryTarget = signer && primary ? await signableTargets(pushTo, registry, result.previousTarget) : undefined;
        if (pushTo.length > 1) {
          const { pushBuildToMany } = await import('../../pipeline/steps/push-many.js');
          const [store, record, mountFrom] = [result.store, pushRecord, config.mountFrom];
          const many = await buildStop!.pushing((r) => pushBuildToMany({
            ...registry,
            mountFrom,
            store,
            record,
            repositories: pushTo,
            replication: flags.replication ? 'auto' : 'off',
            replicationTimeoutMs,
            // --media-wait: the shared media split with the other platforms' hosts in each repository (it was ignored).
            gamePlatforms: config.platforms,
            mediaWaitMs,
            stateDir: config.stateDir,
            reporter: r,
          }), (pushed) => pushed.targets.filter((t) => t.push).map((t) => t.repository));
          const shownMany = pushedBuild(result);
          result = pushRecord = undefined;
          if (flags.sbom || signer) await collectBeforeSupplyChain(shownMany.record);
          const attachedMany = [];
          for (const t of many.targets) {
            if (!t.push || !(flags.sbom || signer)) continue;
            attachedMany.push({
              repository: t.repository,
              ...(await (await import('../../supply/build-attach.js')).attachSupplyChain({ ...registry, config, store: shownMany.store, record: shownMany.record, repository: t.repository, pushed: t.push, sbom: flags.sbom, signer, onSbomAttached: () => buildStop!.attached(t.repository, 'sbom'), onSignProgress: (n, of) => buildStop!.signing(t.repository, n, of) })),
            });
            buildStop!.attached(t.repository, 'all');
          }
          // Everything is there: a stop from here on has nothing to tell.
          buildStop!.off();
          for (const a of attachedMany) warnSignedByHand(a, reporter);
          if (flags.json) printJson({ ...buildJson(shownMany), push: many, ...(attachedMany.length ? { supplyChain: attachedMany } : {}) });
          else process.stdout.write(`${buildText(shownMany)}\n${pushManyText(many, (t) => reusedSentLine(summaryReused(shownMany.summary), t.push, t.uploadedBlobs))}\n${attachedMany.map((a) => `${a.repository}:\n${attachText(a)}\n`).join('')}`);
          return;
        }
        let pushed: PushBuildResult | undefined;
        if (primary) {
          const { pushBuild } = await import('../../pipeline/steps/push.js');
          const [built, record] = [result, pushRecord];
          pushed = await buildStop!.pushing((r) =>
            pushBuild({ ...registry, ...(primaryTarget ? { target: primaryTarget } : {}), mountFrom: config.mountFrom, store: built.store, record, repository: primary, stateDir: config.stateDir, gamePlatforms: config.platforms, mediaWaitMs, reporter: r, recordRead: built.previousRecordRead, previousTarget: built.previousTarget }),
            () => [primary],
          );
        }
        const shown = pushedBuild(result);
        result = pushRecord = undefined;
        if (pushed && (flags.sbom || signer)) await collectBeforeSupplyChain(shown.record);
        const attached =
          pushed && (flags.sbom || signer)
            ? await (await import('../../supply/build-attach.js')).attachSupplyChain({
                ...registry,
                config,
                store: shown.store,
                record: shown.record,
                repository: primary!,
                pushed,
                sbom: flags.sbom,
                signer,
                onSbomAttached: () => buildStop!.attached(primary!, 'sbom'),
                onSignProgress: (n, of) => buildStop!.signing(primary!, n, of),
              })
            : undefined;
        buildStop?.off();
        if (attached) warnSignedByHand(attached, reporter);
        if (flags.json) printJson({ ...buildJson(shown), push: pushed, ...(attached ? { supplyChain: attached } : {}) });
        else process.stdout.write(`${buildText(shown)}\n${pushed ? `${pushText(pushed, reusedSentLine(summaryReused(shown.summary), pushed))}\n` : ''}${attached ? `${attachText(attached)}\n` : ''}`);
        if (pushed && !attached) stamping?.done(shown, pushed);
      } finally {
        buildStop?.off();
      }
    });
  addRegistryOptions(cmd);
}

/**
 * Opens each destination of a signed push and refuses one whose signature tags are immutable (ECR's
 * DescribeRepositories, asked when the target opens; the build's own lookup target is taken for its repository).
 * Returns the first destination's target, which the one-destination push then goes on with.
 */
async function signableTargets(
  pushTo: string[],
  registry: Awaited<ReturnType<typeof registryOptions>>,
  previous: BuildResult['previousTarget'],
): Promise<PushTarget> {
  const { parseReference } = await import('../../registry/reference.js');
  const { pushTargetFor } = await import('../../registry/push.js');
  const { refuseImmutableSignatureTags } = await import('../../supply/sign-preflight.js');
  const prev = previous && parseReference(previous.repository);
  let first: PushTarget | undefined;
  for (const repository of pushTo) {
    const ref = parseReference(repository);
    const same = prev !== undefined && prev.registry === ref.registry && prev.repository === ref.repository;
    const target = same ? previous!.target : await pushTargetFor(ref, registry);
    refuseImmutableSignatureTags(target, ref.repository, `${ref.registry}/${ref.repository}`);
    first ??= target;
  }
  return first!;
}

/** What is printed of a build, and what its SBOM and signatures read: its record but the plan. */
type ShownBuild = Pick<BuildResult, 'store' | 'recordFile' | 'summary' | 'rerunNote'> & { record: SbomRecord };

/**
 * A build once pushed: what is left to do reads nothing of its plan, nor of its scans (their manifests are the
 * record's). The plan's lists of a tree kept on the previous build's layers are that record's stores (a 1M-entry
 * layer and a patch of 100k whiteouts: 35 MiB and more), held through the SBOM's walk when the whole result was.
 */
function pushedBuild(r: BuildResult): ShownBuild {
  const { plan: _plan, ...record } = r.record;
  return { store: r.store, recordFile: r.recordFile, summary: r.summary, record, ...(r.rerunNote ? { rerunNote: r.rerunNote } : {}) };
}

/**
 * A full GC before the SBOM's walk of a large game: what the plan's lists held is dead now (pushedBuild), and the walk
 * allocated on top of it until its first collection (a 1M-entry layer's store: 35 MiB more at the SBOM's start).
 */
async function collectBeforeSupplyChain(record: SbomRecord): Promise<void> {
  const { LARGE_GAME_ENTRIES } = await import('../../scan/scan.js');
  if (record.manifests.reduce((n, m) => n + m.entries.length, 0) < LARGE_GAME_ENTRIES) return;
  (await import('../../util/young-garbage.js')).collectOldGarbage();
}

function buildJson(r: ShownBuild) {
  return {
    store: r.store,
    record: r.recordFile,
    tags: r.record.tags,
    images: r.record.images,
    summary: { ...r.summary, layers: r.summary.layers.map((l) => ({ ...l.layer, platform: l.platform, files: l.files, bytes: l.bytes, reused: l.reused })) },
  };
}

export function buildText(r: ShownBuild): string {
  const s = r.summary;
  const multi = r.record.platforms.length > 1;
  const rows = s.layers.map((l) => [
    multi ? `${l.layer.tree} ${l.platform}` : l.layer.tree,
    String(l.layer.index),
    String(l.files),
    formatBytes(l.bytes),
    formatBytes(l.layer.size),
    l.reused ? 'reused' : l.patch ? 'patch' : 'built',
    l.layer.digest.slice(0, 19),
  ]);
  const server = r.record.images.find((i) => i.name === 'server' && (multi ? i.platform === undefined : true))!;
  const markers = s.built + s.reused - new Set(s.layers.map((l) => l.layer.inputKey)).size;
  const notes = s.trees
    .filter((t) => t.decision === 'patched' || t.decision === 'compacted' || t.decision === 'rebased')
    .map((t) => {
      const what = t.decision === 'patched' ? 'patch layer added on top of the previous build' : t.decision === 'compacted' ? `compacted (${t.reason})` : `rebased (${t.reason})`;
      return `${multi ? `${t.tree} ${t.platform}` : t.tree}: ${what}`;
    });
  notes.push(...wholeFileNotes(s.wholeFiles ?? []));
  return [
    table(['tree', 'layer', 'files', 'content', 'compressed', 'status', 'digest'], rows, [1, 2, 3, 4]),
    ...(notes.length ? ['', ...notes] : []),
    '',
    previousText(s),
    ...(s.baseMoved ?? []).map((m) => `${baseMoveText(m)} (new images on the same layers)`),
    // Counted as the table above counts: its rows; the tree markers apart. s.built and s.reused count distinct
    // layers, markers included, while a media layer has a row per platform: markers are what the rows' layers are not.
    `layers: ${s.layers.filter((l) => !l.reused).length} built, ${s.layers.filter((l) => l.reused).length} reused; ` +
      `new bytes ${formatBytes(s.bytesNew)} of ${formatBytes(s.bytesTotal)}; scan ${(s.scanMs / 1000).toFixed(2)}s, total ${(s.ms / 1000).toFixed(2)}s${builtRate(s)}` +
      `${markers > 0 ? `; and ${count(markers, 'tree marker')}` : ''}`,
    `images in ${r.store}: ${r.record.tags.join(', ')}`,
    `server image ${r.record.tags[0]} = ${server.digest}`,
    `record ${r.recordFile}`,
  ].join('\n');
}

/**
 * The rate of the work done: content tarred and compressed per second of the whole build. It was the compressed new
 * bytes per second: a 900 MiB file of zeros built in 15 s read "0.3 MB/s", and a no-op build "0.0 MB/s".
 */
function builtRate(s: BuildResult['summary']): string {
  const built = new Map(s.layers.filter((l) => !l.reused).map((l) => [l.layer.inputKey, l.bytes]));
  const bytes = [...built.values()].reduce((n, b) => n + b, 0);
  return bytes > 0 ? ` (${formatBytes(bytes)} of content built, ${formatRate(bytes, s.ms)})` : '';
}

/** Big changed files sent whole again, per tree (the first 3 named): a chunked tree would send their new chunks. */
function wholeFileNotes(files: NonNullable<BuildResult['summary']['wholeFiles']>): string[] {
  const trees = [...new Set(files.map((f) => f.tree))];
  return trees.map((tree) => {
    const of = files.filter((f) => f.tree === tree);
    const named = of.slice(0, 3).map((f) => `${printable(f.path)} (${formatBytes(f.bytes)})`).join(', ');
    const more = of.length > 3 ? ` and ${of.length - 3} more` : '';
    const verb = of.length === 1 ? 'changed and was' : 'changed and were';
    return `${tree}: ${named}${more} ${verb} sent whole again; a chunked tree sends only the chunks that changed (trees.${tree}.chunks, docs/chunks.md)`;
  });
}

function previousText(s: BuildResult['summary']): string {
  // A registry record's reference, line and date are anyone's text: control characters quoted (as inspect does).
  const p = printable(s.previous);
  if (p.source === 'none') return `previous build: none (${p.reason}); every tree planned afresh`;
  // Rows of the layer table, as the summary line counts (remoteLayers.kept counts distinct layers, markers included).
  const kept = s.remoteLayers ? `; ${count(s.layers.filter((l) => l.inRegistry).length, 'layer')} kept in the registry (not downloaded)${s.remoteLayers.gone ? `, ${s.remoteLayers.gone} gone from it (rebuilt)` : ''}` : '';
  return `previous build: ${p.ref}${p.plannedOn ? ` (line ${p.plannedOn}'s newest: line ${p.line} has none yet)` : p.plannedOnRecord ? ` (the repository's newest build record: it has no line tag)` : p.line ? ` (line ${p.line})` : ''}, built ${p.createdAt}${kept}`;
}

/**
 * The part of a push that layers this build reused from the local store made up, when the registry lacked them: a
 * tree switched to chunks and back reused its old layers ("new bytes 324 B"), never pushed there, and the push line
 * that followed said "360 MiB sent". Each true, together they read as a contradiction. Undefined when there is none.
 */
export function reusedSentLine(reusedLayers: ReadonlyMap<string, number>, p: Pick<PushBuildResult, 'images'>, uploadedBlobs?: readonly string[]): string | undefined {
  const uploaded = new Set(uploadedBlobs ?? p.images.flatMap((i) => i.uploaded));
  const sent = [...reusedLayers].filter(([digest]) => uploaded.has(digest));
  if (sent.length === 0) return undefined;
  const bytes = sent.reduce((n, [, size]) => n + size, 0);
  return (
    `of that, ${formatBytes(bytes)} is ${count(sent.length, 'layer')} this build reused from the local store that ${p.images[0]?.repository ?? 'the repository'} lacked ` +
    `(the build's "new bytes" counts only layers built now)`
  );
}

/** The layers a build's summary says it reused (by digest, their size): reusedSentLine's input. */
function summaryReused(s: BuildResult['summary']): Map<string, number> {
  return new Map(s.layers.filter((l) => l.reused).map((l) => [l.layer.digest, l.layer.size]));
}

/**
 * Several targets: one line per target (and below it, `reusedSent` of what it was sent: each target lacked its own
 * layers), then where each blob was read.
 */
export function pushManyText(r: PushBuildToManyResult, reusedSent?: (t: TargetOutcome & { push: PushBuildResult }) => string | undefined): string {
  const reads = Object.values(r.reads);
  const extra = reads.reduce((n, k) => n + Math.max(0, k - 1), 0);
  return [
    ...r.targets.flatMap((t) => {
      const said = t.push && reusedSent?.({ ...t, push: t.push });
      return [`${t.repository}${t.region ? ` (${t.region})` : ''}: ${outcomeText(t)}`, ...(said ? [said] : [])];
    }),
    `${count(reads.length, 'blob')} read from the store${extra ? ` (${extra} read again, for retries or late uploads)` : ' once each'}; ${formatBytes(r.bytesSent)} sent in all`,
  ].join('\n');
}

/** `reusedSent`: reusedSentLine's words, said right below the bytes they explain. */
export function pushText(p: PushBuildResult, reusedSent?: string): string {
  const b = p.blobs;
  const images = p.images.map((i) => `  ${i.tags.join(', ')} = ${i.digest}${i.upToDate ? ' (already there)' : ''}`);
  return [
    `pushed to ${p.repository}:`,
    ...images,
    `blobs: ${b.uploaded} uploaded, ${b.mounted} mounted, ${b.skipped} already there; ${formatBytes(p.bytesSent)} sent${p.record.bytesSent ? ` (the build record's ${formatBytes(p.record.bytesSent)} included)` : ''}`,
    ...(reusedSent ? [reusedSent] : []),
    `build record ${p.record.digest} (tag ${p.record.tags.join(', ') || 'kept'})`,
  ].join('\n');
}

/** An SBOM signed by this key with `gamelayer sign` that was not this build's document: replaced, and said. */
function warnSignedByHand(a: AttachResult, reporter: { warn(line: string): void }): void {
  for (const d of a.sbom?.signedByHand ?? []) {
    reporter.warn(
      `SBOM ${d} was signed by this key with gamelayer sign, not by a build, and is not the document this build makes of the image: it was not reused (removed with its signatures; the build attached and signed its own, ${a.sbom!.digest}). Find out who attached it`,
    );
  }
}

function attachText(a: AttachResult): string {
  const lines: string[] = [];
  if (a.sbom) {
    const replaced = a.sbom.replaced.length ? `; it replaces ${a.sbom.replaced.join(', ')} (under gamelayer's SBOM key annotation but not this build's document: an earlier gamelayer's, or attached by someone else; removed with its signatures)` : '';
    lines.push(`SBOM ${a.sbom.digest}: ${count(a.sbom.files, 'file')}, ${formatBytes(a.sbom.bytes)}${a.sbom.upToDate ? ' (already attached)' : ` (attached via ${a.sbom.via === 'referrers' ? 'the referrers API' : 'the referrers tag'})`}${replaced}`);
  }
  if (a.signatures.length) {
    const total = a.signatures.reduce((n, s) => n + s.signed.length, 0);
    lines.push(`signatures: ${a.signaturesAdded} new, ${total - a.signaturesAdded} already there`);
  }
  lines.push(`supply chain: ${formatBytes(a.bytesSent)} sent`);
  return lines.join('\n');
}

function dockerText(r: DockerBuildResult): string {
  const rows = r.images.map((i) => [i.name, i.ref, i.id.slice(0, 19), `${i.cachedSteps}/${i.steps}`, i.pushedDigest ?? '']);
  return [
    `docker ${r.daemon.version} at ${r.daemon.address}, ${r.buildkit ? 'BuildKit' : 'legacy builder'}${r.compat ? ', Docker 20.10-compatible Dockerfiles' : ''}, ${r.platform}`,
    table(['image', 'tag', 'id', 'cached steps', 'pushed digest'], rows),
  ].join('\n');
}
