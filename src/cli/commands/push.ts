// gamelayer push: sends an image from the local OCI store (config.store) to a registry, only what it lacks.
import { Option, type Command } from 'commander';
import { GamelayerError } from '../../errors.js';
import type { PushResult } from '../../registry/push.js';
import { hostOnlyReferenceError, parseReference } from '../../registry/reference.js';
import { formatBytes } from '../../report/reporter.js';
import { readBuildRecord } from '../../state/records.js';
import { buildRecordFile, findBuildRecord, storeRecordFile, type RecordsOf } from '../../state/record-name.js';
import type { BuildRecord } from '../../types.js';
import { exists } from '../../util/exists.js';
import { pushManyText, pushText, reusedSentLine } from './build.js';
import { withPushInterrupt } from '../push-interrupt.js';
import { commandConfig, commandReporter, printJson, STORE_FLAG_HELP, withReadStoreFlag } from '../context.js';
import { addRegistryOptions, checkEcrFlags, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface PushFlags extends RegistryFlags {
  tag?: string[];
  alsoTag: string[];
  image?: string;
  line?: string;
  store?: string;
  json?: boolean;
  replication: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('push')
    .description('push a build (its five images, then its build record) or, with --image, one image from the local store to a registry, sending only the blobs it lacks')
    .argument('<ref...>', 'destination host[:port]/repo[:tag], or just a tag to push to the registry named in gamelayer.yaml; several (same tag) push one build to several repositories in one run')
    .option('--also-tag <tag>', 'another tag to set on the destination (repeatable); of a build: on its server image, once the whole build is pushed', (v: string, acc: string[]) => [...acc, v], [])
    // -t/--tag names a build's tag in the other commands; kept here, hidden, for old scripts.
    .addOption(new Option('-t, --tag <tag>').hideHelp().argParser((v: string, acc: string[] = []) => [...acc, v]))
    .option('--image <tag|digest>', 'push only this image of the local store (default: the whole build tagged like <ref>)')
    .option('--line <name>', 'line of work (branch) whose tag moves to the build\'s record when it is the line\'s newest, as build --push --line (default: the line the build was pushed on, else as build --push: GAMELAYER_LINE, CODEBUILD_WEBHOOK_HEAD_REF, the git branch, else "default")')
    .option('--store <dir>', STORE_FLAG_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .option('--no-replication', 'with several destinations: push to each, even to a region ECR replication copies the first one to')
    .action(async (refs: string[], flags: PushFlags, cmd: Command) => {
      const config = await withReadStoreFlag(await commandConfig(cmd), flags.store);
      const reporter = commandReporter(Boolean(flags.json));
      refuseTagBesideRepository(refs);
      checkEcrFlags(flags, refs.map((r) => destination(r, config.registry, config.file)));
      if (refs.length > 1) return pushMany(refs, flags, config, reporter);
      const to = destination(refs[0]!, config.registry, config.file);
      // A line is a build's (its record moves the line tag): one image pushed alone has none to move.
      if (flags.line !== undefined && flags.image !== undefined) {
        throw new GamelayerError('cli.usage', `--line ${flags.line} goes with the push of a build (its record moves the line's tag), not with --image`, 'drop --line, or push the whole build: gamelayer push REF --line NAME');
      }
      // A tag with a build record is a build: all five images and the record go up (the record then says where,
      // for the deploy commands). --image pushes one image, as before.
      const alsoTags = [...flags.alsoTag, ...(flags.tag ?? [])];
      const build = flags.image === undefined ? await buildRecordFor(config, to) : undefined;
      // Checked before anything is sent, the build's further tags among them.
      if (!build || alsoTags.length) await refuseReservedTags(to, flags, config);
      if (!build && flags.line !== undefined) {
        throw new GamelayerError('cli.usage', `--line ${flags.line}: ${to} names no local build (no build record of its tag), so no record moves the line's tag`, 'push a build by its tag (gamelayer build --tag TAG first), or drop --line');
      }
      const registry = await registryOptions(flags);
      let pushed: Awaited<ReturnType<typeof import('../../pipeline/steps/push.js').pushBuild>> | undefined;
      let reusedSent: string | undefined;
      if (build) {
        const { pushBuild } = await import('../../pipeline/steps/push.js');
        const record = await withLine(build.record, config, flags.line);
        pushed = await withPushInterrupt(reporter, (r) => pushBuild({ ...registry, mountFrom: config.mountFrom, store: config.store, record, repository: build.repository, stateDir: config.stateDir, reporter: r }));
        // What build --push says below the bytes sent: how much of them is layers the build reused, never pushed there.
        if (!flags.json) reusedSent = reusedSentLine(await (await import('../../inventory/local.js')).layersFromEarlierBuilds(config, record), pushed);
        // `push 1.4.2 --also-tag latest` sent the server image alone (no tree image, no record), which k8s and ecs
        // then refused as never pushed: the build goes up whole, and its further tags name its server image.
        if (!alsoTags.length) {
          if (flags.json) printJson(pushed);
          else process.stdout.write(`${pushText(pushed, reusedSent)}\n`);
          return;
        }
      }
      const { pushImage } = await import('../../registry/push.js');
      const { withStoreRead } = await import('../../oci/store-holds.js');
      const { stateUploadSessions } = await import('../../registry/upload-sessions.js');
      const uploadSessions = stateUploadSessions(config.stateDir);
      const result = await withPushInterrupt(reporter, (r) =>
        withStoreRead(config.store, () => pushImage({ layout: config.store, to, image: flags.image, game: config.game, tags: alsoTags, ...registry, mountFrom: config.mountFrom, uploadSessions, reporter: r })),
      );
      if (pushed) {
        if (flags.json) printJson({ ...pushed, alsoTagged: { tags: alsoTags, digest: result.digest } });
        else process.stdout.write(`${pushText(pushed, reusedSent)}\nalso tagged ${alsoTags.join(', ')}: ${result.repository}@${result.digest} (the server image)\n`);
      } else if (flags.json) printJson(result);
      else process.stdout.write(summary(result));
    });
  addRegistryOptions(cmd);
}

/** One build (the refs' common tag, with a local record) to several repositories. */
async function pushMany(refs: string[], flags: PushFlags, config: Awaited<ReturnType<typeof commandConfig>>, reporter: ReturnType<typeof commandReporter>): Promise<void> {
  if (flags.image !== undefined || (flags.tag ?? []).length || flags.alsoTag.length) {
    throw new GamelayerError('cli.push-targets', `push to ${refs.length} destinations takes a build (a tag with a build record), not --image, --also-tag or -t`, 'push one image at a time to one destination');
  }
  // Read before the store and the registries: a bad value failed only after the push.
  const replicationTimeoutMs = flags.replication ? (await import('../../registry/replication-timeout.js')).replicationTimeoutMs() : undefined;
  const tos = refs.map((r) => destination(r, config.registry, config.file));
  const tags = [...new Set(tos.map((t) => parseReference(t).tag))];
  if (tags.length !== 1 || tags[0] === undefined) {
    throw new GamelayerError('cli.push-targets', `push ${refs.join(' ')}: every destination must name the same build tag (host/repo:TAG), got ${tags.map((t) => t ?? 'none').join(', ')}`);
  }
  const builds = await Promise.all(tos.map((t) => buildRecordFor(config, t)));
  if (builds.some((b) => !b)) {
    throw new GamelayerError('cli.push-targets', `push ${refs.join(' ')}: ${tags[0]} has no local build record (${storeRecordFile(config, tags[0]!)})`, 'build it first (gamelayer build --tag TAG), or push one image at a time');
  }
  const { pushBuildToMany } = await import('../../pipeline/steps/push-many.js');
  const registry = await registryOptions(flags);
  const record = await withLine(builds[0]!.record, config, flags.line);
  const result = await withPushInterrupt(reporter, (r) => pushBuildToMany({
    ...registry,
    mountFrom: config.mountFrom,
    store: config.store,
    record,
    repositories: builds.map((b) => b!.repository),
    replication: flags.replication ? 'auto' : 'off',
    replicationTimeoutMs,
    stateDir: config.stateDir,
    reporter: r,
  }));
  if (flags.json) return printJson(result);
  const reused = await (await import('../../inventory/local.js')).layersFromEarlierBuilds(config, record);
  process.stdout.write(`${pushManyText(result, (t) => reusedSentLine(reused, t.push, t.uploadedBlobs))}\n`);
}

/**
 * The build with its line of work, as build --push gives it: `--line`, else the line it was pushed on, else the
 * default line (a build made without --push has none, and its push left the line tag on an older build, or on a
 * record its record tag had moved off, listed by ls as `record of ?`). The push moves the line tag only when this
 * build is the line's newest (pushBuildRecord compares creation times). A build of one platform of several (build
 * --platform P --push) moves no line, as build --push does not: `gamelayer index` merges it and moves the line.
 */
async function withLine(record: BuildRecord, config: { dir: string; platforms: string[] }, line: string | undefined): Promise<BuildRecord> {
  const { isPlatformBuild } = await import('./platform-build.js');
  if (isPlatformBuild(config, record)) {
    if (line !== undefined) {
      throw new GamelayerError('cli.usage', `--line ${line}: ${record.tags[0]} is a build of ${record.platforms[0]} alone, which moves no line (as build --platform P --push)`, `merge the platform builds with gamelayer index REPO --tag TAG --line ${line}`);
    }
    return { ...record, line: undefined };
  }
  if (line !== undefined) return { ...record, line };
  if (record.line !== undefined) return record;
  const { defaultLine } = await import('../../pipeline/steps/previous.js');
  return { ...record, line: (await defaultLine(config.dir)).line };
}

/** The local build record of the tag in `to` built into the config's store (state/record-name.ts), if there is one. */
async function buildRecordFor(config: RecordsOf, to: string): Promise<{ record: BuildRecord; repository: string } | undefined> {
  const ref = parseReference(to);
  if (!ref.tag || ref.digest) return undefined;
  // Read once: judged by its head, or (a record written before stop 48) by the whole record, which is then kept.
  const found = await findBuildRecord(config, ref.tag, readBuildRecord);
  if (found === undefined || !(await exists(found.file))) return undefined;
  const record = found.record ?? (await readBuildRecord(found.file));
  if (record.tags[0] !== ref.tag) return undefined;
  return { record, repository: `${ref.scheme ? `${ref.scheme}://` : ''}${ref.registry}/${ref.repository}` };
}

/**
 * One image pushed under tags of its own choosing may not take a tag that names something else of gamelayer's: a
 * build record, a line tag, a signature (the record or signature is replaced, and later reads fail), or a tree image
 * tag of a local build (`1.4.2-app`) for another image than that one (the build's app image is replaced).
 */
async function refuseReservedTags(to: string, flags: PushFlags, config: RecordsOf): Promise<void> {
  const { reservedTagMeaning, treeTagParts } = await import('../../registry/reserved-tags.js');
  const destTag = parseReference(to).tag;
  const source = flags.image ?? destTag;
  for (const tag of [...(destTag ? [destTag] : []), ...flags.alsoTag, ...(flags.tag ?? [])]) {
    const flag = tag === destTag ? `push ${to}` : `--also-tag ${tag}`;
    const meaning = reservedTagMeaning(tag);
    if (meaning) {
      throw new GamelayerError('push.reserved-tag', `${flag}: the tag ${tag} is gamelayer's: it names ${meaning}, which this push would replace with an image`, 'choose another tag; build records, line tags and signatures are written by build --push, push and sign');
    }
    const parts = treeTagParts(tag);
    const buildFile = parts ? await buildRecordFile(config, parts.build) : undefined;
    if (parts && source !== tag && buildFile && (await exists(buildFile))) {
      throw new GamelayerError(
        'push.reserved-tag',
        `${flag}: the tag ${tag} is the ${parts.tree} image of the build ${parts.build} (${buildFile}); this push would replace it with ${source ?? 'another image'}`,
        `push the build with gamelayer push HOST/REPO:${parts.build}, or choose another tag`,
      );
    }
  }
}

/**
 * `push TAG REPO`, in build --push's order (`build --tag TAG --push REPO`), read as two destinations: the tag alone
 * (the config's registry, or "no registry" when it has none) and the repository with no tag ("none"). Neither
 * error named the fix: the tag goes into the reference.
 */
function refuseTagBesideRepository(refs: string[]): void {
  const bare = refs.filter((r) => !r.includes('/') && !r.includes(':'));
  const tagless = refs.filter((r) => r.includes('/') && !/[:@][^/]*$/.test(r));
  if (bare.length !== 1 || tagless.length === 0) return;
  throw new GamelayerError(
    'cli.push-targets',
    `push ${refs.join(' ')}: ${bare[0]} is a tag alone and ${tagless.join(', ')} ${tagless.length === 1 ? 'a repository' : 'repositories'} without one; a destination names its tag (HOST/REPO:TAG)`,
    `push the build ${bare[0]} with: gamelayer push ${tagless.map((r) => `${r}:${bare[0]}`).join(' ')}`,
  );
}

/** A bare tag goes to the registry repository named in gamelayer.yaml. */
function destination(ref: string, registry: string | undefined, configFile: string): string {
  if (ref.includes('/')) return ref;
  // `HOST:PORT:TAG` is no bare tag (a tag holds no ":"): the repository was left out after the host.
  const hostOnly = ref.includes(':') ? hostOnlyReferenceError(ref) : undefined;
  if (hostOnly) throw hostOnly;
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
