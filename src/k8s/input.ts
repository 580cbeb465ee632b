// What the deployment emitters need, and nothing more: derived from the game config plus the last build record,
// so the Kubernetes and ECS emitters never read configs or records themselves (and run-local can reuse them).
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { namedRecordError } from '../state/named-record.js';
import { lastBuildToRead, readBuildRecord } from '../state/records.js';
import { ASSEMBLY_WORKERS } from './assemble-script.js';
import { regionalRepository, type RegionalPin } from './regional.js';
import { deployRecordOf, readDeployRecord, type CountedManifest, type DeployRecord } from './record-counts.js';
import { fetchDeployRecord, isRecordReference } from './record-source.js';
import type { TargetOptions } from '../registry/push.js';
import { TREE_NAMES, type BuildRecord, type PushedTo, type TreeName } from '../types.js';
import { startArgv } from '../config/start.js';
import { sameRepository } from './same-repository.js';
import { digestOf } from '../util/image-digest.js';

export interface DeployTree {
  tree: TreeName;
  /** `<repository>:<tag>-<tree>@sha256:…`: the tag is for people, the digest is what runs. */
  image: string;
  /** `<repository>@sha256:…`: the same image without the tag, so a new tag of the same content reads the same. */
  digestRef: string;
  /** Manifest (or index, for several platforms) digest of the tree image. */
  imageDigest: string;
  /** Where the engine sees the tree; also where the tree image keeps its files. */
  mount: string;
  /** Sum of the file sizes; for a per-platform tree, the largest platform's sum. */
  bytes: number;
  /** Number of entries (files, dirs, links) of the largest platform: each can take one more file-system block. */
  entries: number;
  /** Files with an executable bit: an image volume is mounted noexec, so such a tree cannot be one. */
  executables: number;
  /** Tree digest per platform; key `*` for a tree shared by every platform. Sorted by key. */
  treeDigests: Record<string, string>;
  /**
   * The tree is chunked (config `trees.<name>.chunks`): its image holds chunks and recipes in place of its big
   * files, so it is delivered by a copy that assembles them (src/k8s/assemble-script.ts), never as it is.
   */
  chunked: boolean;
  /**
   * A chunked tree's copy once assembled: its big files whole, no chunks or recipes (the copy leaves the chunk
   * store behind). What an emptyDir or a task's storage must hold; `bytes` and `entries` stay the image's content.
   */
  assembled?: {
    bytes: number;
    entries: number;
    /**
     * Bytes a restarted copy may hold twice at once: it writes each big file again to a temporary beside the copy
     * its first run completed, then renames it over that one, ASSEMBLY_WORKERS files at a time. So the largest
     * ASSEMBLY_WORKERS big files (all of the big files' bytes for a record that does not list their sizes).
     */
    rewrite: number;
  };
}

export interface DeployInput {
  game: string;
  version?: string;
  /** Repository without tag or digest, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com/my-game`. */
  repository: string;
  tag: string;
  /** The commit that built it (CodeBuild), from the record: a workload annotation, never in the pod template. */
  revision?: string;
  platforms: string[];
  baseImage: string;
  /** The four trees in the stable order engine → engine-media → app → app-media. */
  trees: DeployTree[];
  /** The combined image (`<repository>:<tag>@sha256:…`) when the build produced one. */
  serverImage?: string;
  /** The combined image as `<repository>@sha256:…`. */
  serverDigestRef?: string;
  /** argv of the engine; a single string with blanks in the config runs through `sh -c`. */
  start: string[];
}

const NO_BUILD_HINT = 'run gamelayer build first';

/** Build records are read by the one reader of records (state/records.ts); re-exported for the deploy commands. */
export { readBuildRecord };

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Docker's tag grammar (registry/reference.ts). */
const TAG = /^\w[\w.-]{0,127}$/;

/**
 * What the assembling copy of a chunked manifest writes: every entry but the chunk store, plus the assembled files
 * (their count and bytes are in the manifest: the recipes themselves are not in the record). Undefined for a tree
 * that is not chunked, or chunked by a build that did not record them (then the image's figures are all there is).
 */
function assembledCopy(m: CountedManifest): NonNullable<DeployTree['assembled']> | undefined {
  const whole = m.chunks ? m.assembled : undefined;
  if (!whole) return undefined;
  const largest = m.recipes
    ?.map((r) => r.size)
    .sort((a, b) => b - a)
    .slice(0, ASSEMBLY_WORKERS);
  const rewrite = largest ? largest.reduce((s, n) => s + n, 0) : whole.bytes;
  return { bytes: whole.bytes + m.outsideChunks.fileBytes, entries: whole.files + m.outsideChunks.entries, rewrite };
}

/**
 * Joins config and build record. `repository` is where the images were pushed (registry host + path, no tag);
 * `recordFile` only makes messages name the file.
 */
export function deployInputFrom(config: GameConfig, record: BuildRecord, repository: string, recordFile = 'build record'): DeployInput {
  return deployInputOf(config, deployRecordOf(record), repository, recordFile);
}

/** deployInputFrom of a record whose entries are counted already (read so from its file: record-counts.ts). */
export function deployInputOf(config: GameConfig, record: DeployRecord, repository: string, recordFile = 'build record'): DeployInput {
  checkRepository(repository);
  if (record.game !== config.game) {
    throw new GamelayerError(
      'deploy.record-game',
      `${recordFile}: game: the record is for "${record.game}", the config ${config.file} is for "${config.game}"`,
      NO_BUILD_HINT,
    );
  }
  const tag = record.tags[0];
  if (tag === undefined) throw new GamelayerError('deploy.record-tag', `${recordFile}: tags: the build record has no tag`, NO_BUILD_HINT);
  // The tag goes into every image reference written (`<repository>:<tag>-<tree>@…`, imagedefinitions.json, `--fill`'s
  // plain scalars, the kustomize block's comment line): a record read from a registry is anyone's with push rights,
  // and its `1.0\nimages: …` or `x # y` made YAML of its own there.
  if (!TAG.test(tag)) {
    throw new GamelayerError('deploy.record-tag', `${recordFile}: tags[0]: ${JSON.stringify(tag)} is not an image tag (letters, digits, "_", "." or "-", at most 128 characters)`, 'the record was not written by gamelayer build: deploy another build');
  }

  const trees = TREE_NAMES.map((tree): DeployTree => {
    const digest = imageDigest(record, tree, recordFile);
    if (digest === undefined) {
      throw new GamelayerError(
        'deploy.record-image',
        `${recordFile}: images: no image for tree ${tree}; expected an entry with name "${tree}"`,
        NO_BUILD_HINT,
      );
    }
    const manifests = record.manifests.filter((m) => m.tree === tree);
    if (manifests.length === 0) {
      throw new GamelayerError(
        'deploy.record-manifest',
        `${recordFile}: manifests: no manifest for tree ${tree}`,
        NO_BUILD_HINT,
      );
    }
    let bytes = 0;
    let entries = 0;
    let executables = 0;
    let assembled: DeployTree['assembled'];
    const treeDigests: Record<string, string> = {};
    for (const m of manifests) {
      bytes = Math.max(bytes, m.fileBytes);
      entries = Math.max(entries, m.entries);
      executables = Math.max(executables, m.executables);
      treeDigests[m.platform ?? '*'] = m.digest;
      const copy = assembledCopy(m);
      if (copy) {
        assembled = { bytes: Math.max(assembled?.bytes ?? 0, copy.bytes), entries: Math.max(assembled?.entries ?? 0, copy.entries), rewrite: Math.max(assembled?.rewrite ?? 0, copy.rewrite) };
      }
    }
    return {
      tree,
      image: `${repository}:${tag}-${tree}@${digest}`,
      digestRef: `${repository}@${digest}`,
      imageDigest: digest,
      mount: config.trees[tree].mount,
      bytes,
      entries,
      executables,
      treeDigests: Object.fromEntries(Object.entries(treeDigests).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      // Chunked when the build chunked it (its manifests say so) or the config asks for it.
      chunked: config.trees[tree].chunks !== undefined || manifests.some((m) => m.chunks),
      ...(assembled ? { assembled } : {}),
    };
  });
  const serverDigest = imageDigest(record, 'server', recordFile);
  return {
    game: config.game,
    version: record.version ?? config.version,
    repository,
    tag,
    ...(record.revision !== undefined ? { revision: record.revision } : {}),
    platforms: [...(record.platforms.length > 0 ? record.platforms : config.platforms)],
    baseImage: config.baseImage,
    trees,
    serverImage: serverDigest === undefined ? undefined : `${repository}:${tag}@${serverDigest}`,
    ...(serverDigest === undefined ? {} : { serverDigestRef: `${repository}@${serverDigest}` }),
    start: startArgv(config.start),
  };
}

/**
 * The digest to pin for an image name: the platform-less entry (the index of a multi-platform build, or the one
 * manifest of a single-platform build); else the only entry. Several per-platform entries without an index are
 * ambiguous: a pod must not pin one platform's manifest and then land on a node of the other.
 */
function imageDigest(record: Pick<BuildRecord, 'images'>, name: string, recordFile: string): string | undefined {
  const all = record.images.filter((i) => i.name === name);
  const chosen = all.find((i) => i.platform === undefined) ?? (all.length === 1 ? all[0] : undefined);
  if (!chosen) {
    if (all.length === 0) return undefined;
    throw new GamelayerError(
      'deploy.record-image',
      `${recordFile}: images: image ${name} has one entry per platform (${all.map((i) => i.platform).join(', ')}) ` +
        'but no index entry without a platform to pin',
      NO_BUILD_HINT,
    );
  }
  if (!DIGEST.test(chosen.digest)) {
    throw new GamelayerError(
      'deploy.record-image',
      `${recordFile}: images: image ${name} has digest ${JSON.stringify(chosen.digest)}; expected sha256:<64 hex digits>`,
    );
  }
  return chosen.digest;
}

/** A repository is host[:port]/path with no tag and no digest: we append both ourselves. */
function checkRepository(repository: string): void {
  const lastSegment = repository.slice(repository.lastIndexOf('/') + 1);
  const ok =
    /^[a-zA-Z0-9.-]+(?::\d+)?\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(
      repository,
    ) && !lastSegment.includes(':');
  if (!ok) {
    throw new GamelayerError(
      'deploy.repository',
      `repository ${JSON.stringify(repository)}: expected host/path without tag or digest, ` +
        'such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-game or localhost:5000/my-game',
      'set registry in gamelayer.yaml or pass --repository',
    );
  }
}


/** What --record takes, for the hint of a named file that is not a record. */
const RECORD_TAKES = '--record takes a build record (.gamelayer/records/build-<tag>.json) or a pushed build HOST/REPO:TAG';

/**
 * The deploy input of a loaded config: its last build record (or `recordFile`), pushed to `repository`
 * (default: the config's registry, else the one repository the record says the build was pushed to).
 */
export async function loadDeployInput(
  config: GameConfig,
  opts: { recordFile?: string; repository?: string; registryOptions?: TargetOptions } & RegionalPin = {},
): Promise<{ input: DeployInput; recordFile: string; record: DeployRecord }> {
  // `--record host/repo:tag`: the record of a pushed build, read from its repository (a rollback from a fresh host).
  if (opts.recordFile !== undefined && isRecordReference(opts.recordFile)) {
    const ref = opts.recordFile;
    const fetched = await fetchDeployRecord(ref, opts.registryOptions);
    const repository = regionalRepository(fetched.record, opts.repository ?? fetched.repository, opts, ref)!;
    return { input: deployInputOf(config, fetched.record, repository, ref), recordFile: ref, record: fetched.record };
  }
  const recordFile = opts.recordFile ? path.resolve(opts.recordFile) : await lastBuildToRead(config);
  const noRepository = (pushed: PushedTo[] = []) => {
    const copies = pushedCopies(pushed);
    if (copies.length < 2) return new GamelayerError('deploy.repository', `${config.file}: registry: not set, so the image repository is unknown`, 'set registry in gamelayer.yaml or pass --repository');
    // A build pushed to several repositories (one per region): the spec pins one copy, and which is the user's call.
    const byRegion = copies.every((c) => c.region !== undefined) && new Set(copies.map((c) => c.region)).size === copies.length;
    const choose = byRegion ? copies.map((c) => `--region ${c.region}`) : copies.map((c) => `--repository ${c.repository}`);
    return new GamelayerError(
      'deploy.repository',
      `${config.file}: registry: not set, and this build was pushed to ${copies.length} repositories: ${copies.map((c) => (c.region ? `${c.repository} (${c.region})` : c.repository)).join(', ')}; a spec pins one copy`,
      `name it: ${choose.join(' or ')} (one spec per copy, each with its own --out); registry: in gamelayer.yaml names the default`,
    );
  };
  const pinned = opts.region !== undefined || opts.registry !== undefined;
  const unnamed = opts.repository === undefined && config.registry === undefined && !pinned;
  // Nothing names the repository: only the record's pushes can; without a readable record the config is the fix.
  // The record's entries counted as they are read, never held: a 1M-entry game's record is 170 MB of JSON.
  // A record that is there but cannot be read (not a regular file, no permission) is named as such, not blamed on the config.
  const record = unnamed
    ? await readDeployRecord(recordFile).catch((e: unknown) => {
        if (e instanceof GamelayerError && e.code === 'record.unreadable') throw e;
        // A file named with --record that is no record: that is the fix, not the config's registry.
        if (opts.recordFile !== undefined && e instanceof GamelayerError && (e.code === 'record.corrupt' || e.code === 'record.no-build')) throw namedRecordError(e, recordFile, RECORD_TAKES);
        throw noRepository();
      })
    : await readDeployRecord(recordFile).catch((e: unknown) => {
        // A fresh host (a new clone, a CI host) has no build of its own: the pushed build is what it deploys.
        if (opts.recordFile === undefined && e instanceof GamelayerError && e.code === 'record.no-build' && !/scan record/.test(e.message)) {
          const repo = opts.repository ?? config.registry ?? 'HOST/REPO';
          throw new GamelayerError(e.code, e.message, `on a host without the build (a fresh clone, a CI host), deploy a pushed one: --record ${repo}:TAG (gamelayer ls ${repo} lists them)`);
        }
        throw opts.recordFile === undefined ? e : namedRecordError(e, recordFile, RECORD_TAKES);
      });
  // `build --push REPO` with no registry in the config: the record names where the build went, the one place to deploy from.
  const pushedTo = [...new Set((record.pushed ?? []).map((p) => p.repository))];
  const named = opts.repository ?? config.registry ?? (pinned || pushedTo.length !== 1 ? undefined : pushedTo[0]);
  if (named === undefined && !pinned) throw noRepository(record.pushed);
  // --region / --registry: the copy of the build in that region or registry (same digests, its host).
  const repository = regionalRepository(record, named, opts, recordFile);
  if (repository === undefined) throw noRepository(record.pushed);
  return { input: deployInputOf(config, record, repository, recordFile), recordFile, record };
}

/** The repositories a build was pushed to, once each in push order, with the region of the first entry naming one. */
function pushedCopies(pushed: readonly PushedTo[]): { repository: string; region?: string }[] {
  const copies = new Map<string, string | undefined>();
  for (const p of pushed) if (copies.get(p.repository) === undefined) copies.set(p.repository, p.region);
  return [...copies].map(([repository, region]) => (region === undefined ? { repository } : { repository, region }));
}

/** Digest → tag of another local build that pushed it to the repository deployed from (k8s/pushed-by-others.ts). */
export type PushedByOthers = ReadonlyMap<string, string>;

/**
 * Refuses to emit references the registry lacks: the local build record must say (its `pushed` entries, written
 * after a successful push) that `repository` received each named image (`server` or a tree) with the digest being
 * deployed, or (`others`, read by pushed-by-others.ts) that another local build pushed that very digest there.
 * Returns the images only another build pushed, with its tag, for a note. `--local` (local clusters, run-local) skips it.
 */
export function requirePushed(
  record: Pick<BuildRecord, 'pushed'>,
  input: DeployInput,
  names: readonly string[],
  recordFile = 'build record',
  others: PushedByOthers = new Map(),
): { name: string; by: string }[] {
  const wanted = [...new Set(names)];
  if (wanted.length === 0) return [];
  const entry = (record.pushed ?? []).find((p) => sameRepository(p.repository, input.repository));
  const digestNamed = (name: string) => (name === 'server' ? input.serverDigestRef && digestOf(input.serverDigestRef) : input.trees.find((t) => t.tree === name)?.imageDigest);
  const unpushed = wanted.filter((name) => !entry?.images.some((i) => i.name === name && i.digest === digestNamed(name)));
  // Pushed there by another local build with the very digest: the spec pins the digest, the registry serves it.
  const byOthers = unpushed.flatMap((name) => {
    const by = others.get(digestNamed(name) ?? '');
    return by === undefined ? [] : [{ name, by }];
  });
  const missing = unpushed.filter((name) => !byOthers.some((o) => o.name === name));
  if (missing.length === 0) return byOthers;
  const where = (record.pushed ?? []).map((p) => p.repository);
  // A record read from a registry (--record host/repo:tag) knows only that repository, not the other places the
  // build went (a push to several regions): the copy elsewhere is checked by reading its record from there.
  if (!path.isAbsolute(recordFile) && isRecordReference(recordFile)) {
    if (where.some((w) => sameRepository(w, input.repository))) {
      throw new GamelayerError(
        'deploy.not-pushed',
        `${recordFile}: build ${input.tag} of ${input.game}: image${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} no longer in ${input.repository} (deleted since the push?); a node would fail with ErrImagePull`,
        `push the build again from a host holding it (gamelayer push ${input.repository}:${input.tag}), or deploy another build (gamelayer ls ${input.repository} lists them)`,
      );
    }
    throw new GamelayerError(
      'deploy.not-pushed',
      `${recordFile}: build ${input.tag} of ${input.game}: a record read from ${where.join(', ')} says nothing of ${input.repository}`,
      `read the record where the nodes pull from: --record ${input.repository}:${input.tag} (it is there if the build was pushed there); ` +
        `else push it there from a host holding the build (gamelayer push ${input.repository}:${input.tag}); pass --local for a local cluster that gets the images another way`,
    );
  }
  throw new GamelayerError(
    'deploy.not-pushed',
    `${recordFile}: build ${input.tag} of ${input.game}: image${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
      `${missing.length > 1 ? 'were' : 'was'} never pushed to ${input.repository}` +
      (where.length > 0 ? ` (this build was pushed to ${where.join(', ')})` : ' (this build was never pushed)') +
      '; a node would fail with ErrImagePull',
    `push it first: gamelayer push ${input.repository}:${input.tag} (or gamelayer build --push ${input.repository}); ` +
      'pass --local for a local cluster that gets the images another way',
  );
}

