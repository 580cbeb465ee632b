import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { STDIN_CONFIG, type GameConfig } from '../../config/load.js';
import { diffManifests, hasChanges } from '../../diff/diff.js';
import { showsSteps, step } from '../../report/step.js';
import { assertBaseline, labelDirectories, lastBuildForPullCost, lastBuildRerunOn, lastRecordedSide, sideFromArg, workingTrees, type DiffSide } from '../../diff/states.js';
import { commandConfig, commandReporter, configPath, printJson } from '../context.js';
import { diffDetails, diffTable, layerTable, pullCostTable } from './diff-format.js';
import { layerDiff, recordLayerDiff, type LayerDiff } from '../../plan/layer-diff.js';
import { loadBaseImage, parseBaseRef } from '../../oci/base-image.js';
import { parsePlatform } from '../../oci/image.js';
import { sourceDateEpoch } from '../../oci/source-date.js';
import { baseMountParents } from '../../oci/base-parents.js';
import { parentsFromRecord } from '../../plan/mount-parents.js';
import { pullCost, type PullCost } from '../../diff/pull-cost.js';
import { plannedOnTag } from '../../diff/planned-on.js';
import { chunkDiff } from '../../diff/chunks.js';
import { EXIT, GamelayerError } from '../../errors.js';
import { baseMoveText, type BaseMove } from '../../pipeline/base-move.js';
import { TREE_NAMES, type BuildRecord, type TreeManifest, type TreeName } from '../../types.js';
import { LARGE_GAME_ENTRIES } from '../../scan/scan.js';
import { collectOldGarbage } from '../../util/young-garbage.js';
import type { OtherLineRecord } from '../../registry/line-fallback.js';
import type { TargetOptions } from '../../registry/push.js';
import type { Reporter } from '../../report/reporter.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface DiffFlags extends RegistryFlags {
  json?: boolean;
  limit: string;
  exitCode?: boolean;
  against?: string;
  to?: string;
  line?: string;
  ifExists?: boolean;
  platform?: string;
  /** false with --no-pull-cost: the file and layer tables only. */
  pullCost: boolean;
  previous?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('diff')
    .description(
      'show what changed: with no argument, the working trees against the last build (or scan); ' +
        'with A, A against the working trees; with A B, between two records or two directories',
    )
    .argument('[a]', "a record file (.gamelayer/records/*.json), a local build's tag (1.4.2) or a directory")
    .argument('[b]', "a record file, a local build's tag or a directory")
    .option('--json', 'print every change as JSON on stdout')
    .option('--limit <n>', 'changed paths listed per tree', '20')
    .option('--exit-code', 'exit 3 when anything changed, also with --against when there is nothing to compare with (0 when nothing did, 1 on failure, 2 on a usage error)')
    .option('--against <ref>', 'compare the working trees (or --to) with the build record of an image in a registry (host/repo:tag), or with the newest build of the line of work in host/repo; and report the pull cost to the last local build (or --to)')
    .option('--line <name>', 'with --against host/repo: the line of work (default: as build --push chooses it)')
    .option('--if-exists', 'with --against: an image or record that is not in the registry is reported, not an error')
    .option('--to <ref>', 'with --against: the newer build, an image in a registry: its build record is compared with the --against one (files, layers, base, pull cost) instead of the working trees')
    .option('--platform <os/arch>', "with --against: the pull cost of a node of this platform (default: the newer build's first)")
    // CodeBuild's post_build runs after the build moved its line's tag to its own record: without a BASELINE_TAG or a
    // webhook's previous commit it reported no pull cost at all.
    .option('--previous', 'with --against host/repo: compare with the build the last build was planned on there (the line\'s previous build, which its tag named before the build pushed), not the line\'s newest')
    // CodeBuild's pre_build diff runs before the build, on a host with no build of its own (or a stale one from a
    // cache): "no local build to compute the pull cost to" ended every report there. The buildspec asks for none.
    .option('--no-pull-cost', 'with --against: leave the pull cost out (a report made before the build, as CodeBuild\'s pre_build)')
    .action(async (a: string | undefined, b: string | undefined, opts: DiffFlags, cmd: Command) => {
      const reporter = commandReporter(!!opts.json);
      // The long steps on a big game (1M entries: 10–20 s in all), shown on a terminal.
      const shown = showsSteps(!!opts.json);
      const inStep = <T>(label: string, run: () => Promise<T>) => step(reporter, shown, label, run);
      // Read the config once, and only on the paths that need it (two directories need none).
      let loaded: GameConfig | undefined;
      const gameConfig = async () => (loaded ??= await commandConfig(cmd));
      let before: DiffSide;
      let after: DiffSide;
      let cost: { value: PullCost; from: string; to: string } | undefined;
      let costNote: string | undefined;
      let baseMoves: BaseMove[] = [];
      // With --to: B's layers against A's, from the two records (no working trees, no planning).
      let recordLayers: LayerDiff | undefined;
      // 0 lists no paths (the table and the "… and N more" lines only); a value that is not a count is refused, not
      // read as 20 (abc, 0) or as "all but the last five" (-5).
      const limit = Number(opts.limit);
      if (!/^\d+$/.test(opts.limit.trim()) || !Number.isSafeInteger(limit)) {
        throw new GamelayerError('cli.diff-args', `--limit ${opts.limit}: expected a whole number of paths per tree, 0 or more`);
      }
      if (opts.platform !== undefined && !opts.against) throw new GamelayerError('cli.diff-args', '--platform goes with --against: it chooses the node whose pull cost is reported');
      // These only act with --against: without it they were silently ignored (a local diff ran as if not given).
      for (const [flag, given] of [['--line', opts.line !== undefined], ['--to', opts.to !== undefined], ['--if-exists', !!opts.ifExists], ['--no-pull-cost', !opts.pullCost], ['--previous', !!opts.previous]] as const) {
        if (given && !opts.against) throw new GamelayerError('cli.diff-args', `${flag} goes with --against: without it nothing reads it`);
      }
      if (opts.against) {
        if (a || b) throw new GamelayerError('cli.diff-args', '--against compares with the working trees (or --to): give no A or B with it');
        const { DamagedRecordError, fetchBuildRecordFor, fetchLineRecord, locateBuildRecordFor } = await import('../../registry/artifact.js');
        const { parseReference } = await import('../../registry/reference.js');
        // Against the working trees (a game folder): its state folder keeps the record blobs read, so a CodeBuild build's
        // pre_build diff, build and post_build diff download the previous record once (record-blob-cache.ts).
        // A folder without a readable gamelayer.yaml keeps no copy: its error comes where the trees are read, as before.
        const stateDir = opts.to ? undefined : await gameConfig().then((c) => c.stateDir, () => undefined);
        const recordCache = stateDir === undefined ? undefined : (await import('../../registry/record-blob-cache.js')).recordBlobCacheDir(stateDir);
        const registry = { ...(await registryOptions(opts)), ...(recordCache ? { recordCache } : {}) };
        const target = parseReference(opts.against);
        // A tag or digest names the record itself: a line given beside it chose nothing (it was ignored).
        if (opts.line !== undefined && (target.tag || target.digest)) {
          throw new GamelayerError('cli.diff-args', `--line ${opts.line} goes with --against host/repo (no tag or digest): ${opts.against} names one build`);
        }
        if (opts.previous && (target.tag || target.digest || opts.to || opts.line !== undefined)) {
          throw new GamelayerError('cli.diff-args', '--previous goes with --against host/repo alone (no tag or digest, --to or --line): it names the build compared with');
        }
        // With --previous: the last local build, read once (its `previous`, then the newer side of the pull cost).
        let lastBuild: Awaited<ReturnType<typeof lastBuildForPullCost>>;
        let costFrom = opts.against;
        // The older record itself, or (a tag or digest) where it is: read after the working trees are scanned.
        let older: BuildRecord | (() => Promise<BuildRecord>);
        let name = opts.against;
        const absent = (e: unknown) => opts.ifExists && e instanceof GamelayerError && (e.code === 'record.no-image' || e.code === 'record.not-found');
        // Nothing to compare with is an answer ("every layer is new"); any other failure stays an error.
        const nothing = (why: string) => {
          if (opts.json) printJson({ before: null, note: why });
          else process.stdout.write(`${why}\n`);
          // Every layer is new: changed. It exited 0 ("nothing changed"), so a step that builds only on a change
          // skipped the first build of a line or repository.
          if (opts.exitCode) process.exitCode = EXIT.changes;
        };
        try {
          if (opts.previous) {
            lastBuild = await lastBuildForPullCost(await gameConfig());
            const rerunOn = lastBuild === undefined ? undefined : await lastBuildRerunOn(await gameConfig());
            const planned = plannedOnTag(
              lastBuild,
              opts.against,
              (ref) => {
                const r = parseReference(ref);
                return `${r.registry}/${r.repository}`;
              },
              rerunOn,
            );
            if ('none' in planned) return nothing(`${planned.none}: no baseline to compare with (set BASELINE_TAG to compare with an earlier image)`);
            name = `${opts.against}:${planned.tag}`;
            costFrom = planned.rerun
              ? `${name} (the line's previous build: the last build itself, which the last run made again unchanged)`
              : `${name} (the line's previous build, which ${lastBuild!.tags[0]} was planned on)`;
            const read = await locateBuildRecordFor(name, registry);
            older = async () => (await read()).record;
          } else if (!target.tag && !target.digest) {
            const line = opts.line ?? (await (await import('../../pipeline/steps/previous.js')).defaultLine((await gameConfig()).dir)).line;
            // A damaged record of the line is what `build` plans afresh on (with the same warning), so it is
            // an answer here too: a buildspec's diff step must not stop the build that repairs it.
            const found = await fetchLineRecord(opts.against, line, registry).catch((e: unknown) => {
              if (!(e instanceof DamagedRecordError)) throw e;
              reporter.warn(`the previous build record is damaged: ${e.message}; the next build plans every tree afresh`);
              return null;
            });
            if (found === null) return nothing(`the record of line "${line}" in ${opts.against} is damaged: every layer is new`);
            // A line's first build plans on the newest build of another line (line-fallback.ts): compared with that.
            const other = found ? undefined : await planOnOtherLine(opts.against, line, registry, reporter);
            if (!found && !other) return nothing(`no earlier build of line "${line}" in ${opts.against}: every layer is new`);
            const record = (found ?? other!.found)!;
            older = record.record;
            name = `${opts.against}:${record.tag}`;
          } else {
            // Found now (no image, no record: said before the trees are hashed), read when needed.
            const read = await locateBuildRecordFor(opts.against, registry);
            older = opts.to ? (await read()).record : async () => (await read()).record;
          }
        } catch (e) {
          if (absent(e)) return nothing(`${(e as Error).message}: nothing to compare with`);
          throw e;
        }
        if (opts.to) {
          // A against B, both build records in a registry: the files, layers, base and pull cost all between the
          // two (the tables showed A against the working trees, only the pull cost used B).
          if (typeof older === 'function') throw new Error('the --against record is read before --to');
          before = { name, manifests: older.manifests, build: older };
          const newer = (await fetchBuildRecordFor(opts.to, registry)).record;
          after = { name: opts.to, manifests: newer.manifests, build: newer };
          baseMoves = (await import('../../pipeline/base-source.js')).movedBases(older, newer);
          recordLayers = recordLayerDiff(older, newer);
          if (opts.pullCost) cost = { value: pullCost(older, newer, costPlatform(newer, opts.platform)), from: opts.against, to: opts.to };
        } else {
          after = await inStep('scan trees', async () => workingTrees(await gameConfig(), reporter));
          // Read after the scan, as the plain diff reads its record: a 1M-entry record is not held beside the walk.
          if (typeof older === 'function') {
            const read = older;
            try {
              older = await inStep('read record', read);
            } catch (e) {
              // Gone since it was found (a prune meanwhile): as if it had not been there.
              if (absent(e)) return nothing(`${(e as Error).message}: nothing to compare with`);
              throw e;
            }
          }
          before = { name, manifests: older.manifests, build: older };
          baseMoves = await (await import('../../pipeline/base-source.js')).currentBaseMoves(await gameConfig(), older, registry);
          const newer = opts.pullCost ? (lastBuild ?? (await lastBuildForPullCost(await gameConfig()))) : undefined;
          if (newer) cost = { value: pullCost(older, newer, costPlatform(newer, opts.platform)), from: costFrom, to: `the last build (${newer.tags[0]})` };
          else if (opts.pullCost) costNote = 'no local build to compute the pull cost to (build first, or give --to <ref>)';
        }
      } else if (a && b) {
        before = await sideFromArg(await recordOfTag(a, configPath(cmd), gameConfig), reporter);
        after = await sideFromArg(await recordOfTag(b, configPath(cmd), gameConfig), reporter);
      } else {
        // The trees scanned before the record is read: a 1M-entry game's record (70 MiB of packed entries) is then
        // not held beside the scan's walk and stat cache.
        if (a) before = await sideFromArg(await recordOfTag(a, configPath(cmd), gameConfig), reporter);
        // No record at all: said before the trees are hashed (minutes on a big game), not after.
        else await assertBaseline(await gameConfig());
        after = await inStep('scan trees', async () => workingTrees(await gameConfig(), reporter));
        before ??= await inStep('read record', async () => lastRecordedSide(await gameConfig()));
      }
      const diffs = labelDirectories(diffManifests(before.manifests, after.manifests), before, after);
      // A moved base changes every image though no tree did: a CI step building only on a change must not skip it.
      const changed = diffs.some(hasChanges) || baseMoves.length > 0;
      // Against a build, and with the working trees on the other side: which layers a build would redo.
      const config = before.build && !b && !recordLayers ? await gameConfig() : undefined;
      // A registry base is not read here (diff works offline): its layer count is the one the record pinned.
      // The folders above the mounts (part of the layers' keys): a local base's read (known from the build's marker), a
      // registry base's as the record kept them.
      const baseLayerCount = async (platform: string) => {
        if (parseBaseRef(config!.baseImage, config!.dir).kind === 'registry') {
          const pinned = before.build?.bases?.find((b) => b.platform === platform);
          const parents = Object.fromEntries(TREE_NAMES.map((t) => [t, parentsFromRecord(before.build?.parents, platform, t)]));
          return { layers: pinned?.layers ?? 0, parents };
        }
        const base = await loadBaseImage(config!.baseImage, { baseDir: config!.dir, platform: parsePlatform(platform) });
        const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config!.trees[t].mount])) as Record<TreeName, string>;
        return { layers: base.layers.length, parents: await baseMountParents(base, mounts, path.join(config!.stateDir, 'cache', 'verified-blobs'), after.manifests.filter((m) => m.platform === undefined || m.platform === platform)) };
      };
      const layers = recordLayers ?? (config && before.build ? await inStep('diff layers', () => layerDiff(config, after.manifests, before.build!, baseLayerCount, largeGame(after.manifests) ? collectOldGarbage : undefined, { kind: config.layers.compression, mtime: sourceDateEpoch() })) : undefined);
      if (opts.json) {
        printJson({ before: before.name, after: after.name, changed, trees: diffs, chunks: diffs.flatMap((d) => chunkDiff(d) ?? []), layers, pullCost: cost?.value, pullCostTo: cost?.to, ...(baseMoves.length ? { baseMoved: baseMoves } : {}) });
      } else {
        process.stdout.write(`${before.name} → ${after.name}\n${diffTable(diffs)}\n`);
        const details = diffDetails(diffs, limit);
        process.stdout.write(details ? `\n${details}\n` : baseMoves.length ? '\nno changes in the trees\n' : '\nno changes\n');
        if (layers) process.stdout.write(`\n${layerTable(layers, recordLayers ? { older: before.name, newer: after.name } : undefined)}\n`);
        if (layers?.afresh) process.stdout.write(`the next build plans every tree afresh: ${before.name} was built with other layer settings (${layers.afresh})\n`);
        if (cost) process.stdout.write(`\n${pullCostTable(cost.value, cost.from, cost.to)}\n`);
        if (costNote) process.stdout.write(`\n${costNote}\n`);
        for (const m of baseMoves) process.stdout.write(`\n${baseMoveText(m)}; a build makes new images on the same layers\n`);
      }
      if (opts.exitCode && changed) process.exitCode = EXIT.changes;
    });
  addRegistryOptions(command, 'existing');
}

/** The platform whose node the pull cost is for: `--platform`, which the newer build must have, else its first. */
function costPlatform(newer: Pick<BuildRecord, 'platforms' | 'tags'>, asked: string | undefined): string | undefined {
  if (asked === undefined) return newer.platforms[0];
  if (!newer.platforms.includes(asked)) {
    throw new GamelayerError(
      'cli.diff-args',
      `--platform ${asked}: build ${newer.tags[0] ?? '?'} has no such platform; it was built for ${newer.platforms.join(', ')}`,
      `pass one of ${newer.platforms.join(', ')}`,
    );
  }
  return asked;
}

/** The other line's newest build the first build of `line` plans on, said in a note; none (or unreadable): undefined. */
async function planOnOtherLine(repository: string, line: string, registry: TargetOptions, reporter: Reporter): Promise<OtherLineRecord | undefined> {
  const { OtherLineError, otherLineRecord } = await import('../../registry/line-fallback.js');
  const other = await otherLineRecord(repository, line, registry).catch((e: unknown) => {
    if (!(e instanceof OtherLineError)) throw e;
    reporter.warn(`line "${line}" has no build in ${repository} yet, and ${e.message}: the next build plans every tree afresh`);
    return undefined;
  });
  if (other?.line.recordTag) reporter.info(`note: ${repository} has no line tag (line ${line}'s, nor another line's; deleted?): compared with its newest build record ${other.line.recordTag}, which the next build plans on`);
  else if (other) reporter.info(`note: line ${line} has no build in ${repository} yet: compared with line ${other.line.line}'s newest build, which its first build plans on`);
  return other;
}

/** A game whose planning leaves tens of MiB of old garbage per step (a 1M-entry tree walked as objects). */
function largeGame(manifests: readonly TreeManifest[]): boolean {
  return manifests.reduce((n, m) => n + m.entries.length, 0) >= LARGE_GAME_ENTRIES;
}

/**
 * `diff 1.4.2 1.4.3`: an argument that is no file or folder but a local build's tag (as `inspect 1.4.2` takes it)
 * names that build's record; anything else is left to sideFromArg, which says what is missing.
 */
async function recordOfTag(arg: string, configFile: string, gameConfig: () => Promise<GameConfig>): Promise<string> {
  // Without a gamelayer.yaml (two directories need none) there are no local builds to look in.
  if (existsSync(arg) || arg.includes('/') || arg.includes(path.sep) || (configFile !== STDIN_CONFIG && !existsSync(configFile))) return arg;
  const config = await gameConfig();
  const { localBuildFile } = await import('../../inventory/local.js');
  try {
    return await localBuildFile(config, arg);
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'record.no-build') {
      throw new GamelayerError('diff.arg-missing', `${arg}: no such record file, directory or local build`, `diff takes record files, directories or the tags of local builds (${e.hint ?? 'none here'})`);
    }
    throw e;
  }
}
