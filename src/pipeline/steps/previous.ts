// Step previous: the build this one builds on. The registry is the build state: with --push (or --from) the previous
// build is a record read from it, the same on every host of this line of work; .gamelayer/ only speeds up what is
// built. Without, the local last build. A previous build made with other layer settings is not built on.
//
// From the registry: with --push REPO the newest record of this line of work (the tag gamelayer-line.<line>) is the
// previous build; with --from REF, the record of that image. Its layers are never downloaded: a kept layer only needs
// digest, size and diffID (all in the record) and its presence, with that size, in the repository the images go to.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError } from '../../errors.js';
import { DamagedRecordError, fetchBuildRecordFor, fetchLineRecord, LINE_TAG_PREFIX, lineTag, recordTag } from '../../registry/artifact.js';
import { lineCopyDir, lineCopySize } from '../../registry/line-copy.js';
import { recordBlobCacheDir } from '../../registry/record-blob-cache.js';
import { checkKeptDiffIds, recordImageDiffIds, type ImageDiffIds } from '../../registry/record-diffids.js';
import { markRecordProven, recordProven } from '../../registry/record-proof.js';
import { OtherLineError, otherLineRecord } from '../../registry/line-fallback.js';
import { blobSizes } from '../../registry/blob-sizes.js';
import type { ManifestInfo } from '../../registry/client.js';
import { pushTargetFor, readOnly, type TargetOptions } from '../../registry/connect.js';
import type { PushTarget } from '../../registry/target.js';
import { formatReference, parseReference } from '../../registry/reference.js';
import { settingsChanges } from '../../plan/settings-key.js';
import type { Reporter } from '../../report/reporter.js';
import { LAST_BUILD, lastBuildToRead, readRecord, recordStream, type AnyRecord } from '../../state/records.js';
import { recordHead } from '../../state/record-head.js';
import { newestRecords } from '../recorded-layers.js';
import type { BuildRecord, BuiltLayer } from '../../types.js';
import type { BuildInputs } from './inputs.js';
import type { PreviousLookup, RegistryPrevious } from './previous-types.js';
import { gitBranch } from './git-branch.js';
import { imageTags } from './tags.js';
import { count } from '../../report/plural.js';

export type { PreviousLookup, RegistryPrevious };
// The CLI names the copies' folder when it starts the lookup, before the registry modules are its own imports.
export { lineCopyDir, recordBlobCacheDir };

/** The tags a push of a build tagged `tag` sets besides the line tag (images, record): what `askTags` asks. */
export function pushedTags(tag: string): string[] {
  try {
    return [...imageTags(tag), recordTag(tag)];
  } catch {
    return []; // a tag too long for its record tag: the build refuses it with its own message
  }
}

/** Where the previous build came from (`registry`: a record read from the repository, `local`: .gamelayer/). */
export interface PreviousInfo {
  source: 'registry' | 'local' | 'none';
  ref?: string;
  line?: string;
  /** A line's first build planned on another line's newest record: that line. */
  plannedOn?: string;
  /** Planned on the repository's newest record tag: it holds no line tag at all (line-fallback.ts). */
  plannedOnRecord?: string;
  createdAt?: string;
  reason?: string;
}

export type PreviousInput = Pick<BuildInputs, 'config' | 'reporter' | 'settingsKey' | 'line' | 'rebase' | 'from' | 'push' | 'registry' | 'previousLookup'> &
  Partial<Pick<BuildInputs, 'platforms' | 'store'>>;

/** The last build into the store this build writes (state/last-build.ts): --out's, else the config's. */
function lastBuildOf(i: Pick<BuildInputs, 'config'> & Partial<Pick<BuildInputs, 'store'>>): Promise<string> {
  return lastBuildToRead({ stateDir: i.config.stateDir, store: i.store?.dir ?? i.config.store });
}

/** Whether a build with these options takes its previous build from a registry (--from REF, or --push). */
function usesRegistry(i: { rebase?: boolean; from?: string; push?: string }): boolean {
  return !i.rebase && i.from !== 'none' && !!(i.from || i.push);
}

/**
 * Whether the build reads its previous build after the scan: it comes from .gamelayer/ (no registry lookup whose
 * round trips the scan should overlap), no tree is chunked (a chunked tree's scan takes chunk lists from it), and
 * its record is large (`recordStream.minBytes`: a small one's parse garbage is better collected with the scan's).
 */
export async function previousReadAfterScan(i: Pick<BuildInputs, 'config' | 'rebase' | 'from' | 'push'> & Partial<Pick<BuildInputs, 'store'>>): Promise<boolean> {
  if (usesRegistry(i) || Object.values(i.config.trees).some((t) => t.chunks)) return false;
  const size = await stat(await lastBuildOf(i)).then((s) => s.size, () => 0);
  return size >= recordStream.minBytes;
}

/**
 * Starts the lookup findPrevious would make (undefined when it makes none), so that its round trips overlap what
 * the caller does meanwhile: the CLI starts it as soon as the config, line and registry options are known, before
 * the build's own modules load (start-up, issue 17). Same requests, same checks; findPrevious takes the result (or
 * the error) only when the lookup was started for exactly its options, else it asks itself.
 */
export function startPreviousLookup(o: Omit<PreviousLookup, 'result' | 'asking'>): PreviousLookup | undefined {
  if (!usesRegistry(o)) return undefined;
  let askedFirst: () => void = () => undefined;
  const firstOut = new Promise<void>((resolve) => (askedFirst = resolve));
  const result = findRegistryPrevious({ from: o.from, push: o.push, line: o.line, registry: o.registry ?? {}, copyDir: o.copyDir, recordCache: o.recordCache, askTags: o.askTags, onAsked: askedFirst });
  // Seen by findPrevious; a build that fails before it gets there (an unwritable store) leaves no unhandled rejection.
  result.catch(() => undefined);
  // Only the --push lookup makes its client here (with --from, the record is read through a client of its own).
  const asking = o.from ? Promise.resolve() : Promise.race([firstOut, result.then(() => undefined, () => undefined)]);
  return { rebase: o.rebase, from: o.from, push: o.push, line: o.line, registry: o.registry, copyDir: o.copyDir, recordCache: o.recordCache, askTags: o.askTags, result, asking };
}

function lookupFor(i: PreviousInput): Promise<RegistryPrevious | undefined> {
  const l = i.previousLookup;
  // The local copy only saves round trips (the same record either way): a lookup started with or without it is taken.
  const same = l !== undefined && l.rebase === i.rebase && l.from === i.from && l.push === i.push && l.line === i.line && l.registry === i.registry;
  return same ? l.result : findRegistryPrevious({ from: i.from, push: i.push, line: i.line, registry: i.registry ?? {}, copyDir: lineCopyDir(i.config.stateDir), recordCache: recordBlobCacheDir(i.config.stateDir) });
}

export interface PreviousOutput {
  /** The build this one builds on; undefined: every tree is planned afresh. */
  record?: BuildRecord;
  info: PreviousInfo;
  /** The registry's previous build, when one was read (also when its settings differ and it is not built on). */
  remote?: RegistryPrevious;
  /** A registry previous build's layers present in the repository, by inputKey: the only layers it may keep. */
  kept?: Map<string, BuiltLayer>;
}

export async function findPrevious(i: PreviousInput): Promise<PreviousOutput> {
  const { config, reporter, settingsKey, line } = i;
  const fromNone = i.from === 'none';
  const useRegistry = usesRegistry(i);
  // A damaged record (its blob not what its digest names, not a readable record) is not built on: this build plans
  // afresh with a warning, and its push stores its own record anew (pushBuildRecord checks what it would skip).
  let damaged: string | undefined;
  // A line's first build whose other lines could not be listed or read plans afresh, as it would with none.
  let otherLine: string | undefined;
  let remote = useRegistry
    ? await lookupFor(i).catch((e: unknown) => {
        if (e instanceof OtherLineError) {
          otherLine = e.message;
          return undefined;
        }
        if (!(e instanceof DamagedRecordError)) throw e;
        damaged = e.message;
        return undefined;
      })
    : undefined;
  // A record of this build's settings is built on only once its images confirm its kept layers' diffIDs (asked beside
  // the lookup's HEADs); one of other settings is not built on, and is not called damaged for what it would keep.
  if (remote && remote.record.settingsKey === settingsKey) {
    const problem = await remote.diffIdProblem;
    if (problem !== undefined) {
      damaged = problem;
      remote = undefined;
    }
  }
  let previousInfo: PreviousInfo;
  let previous: BuildRecord | undefined;
  if (i.rebase) previousInfo = { source: 'none', reason: '--rebase' };
  else if (useRegistry) {
    if (damaged) {
      reporter.warn(`the previous build record is damaged: ${damaged}; planning every tree afresh`);
      previousInfo = { source: 'none', line, reason: `the record of line "${line}" in ${i.from ?? i.push} is damaged` };
    } else if (!remote) previousInfo = { source: 'none', line, reason: `no build of line "${line}" in ${i.from ?? i.push} yet` };
    else if (remote.record.settingsKey !== settingsKey) {
      previousInfo = { source: 'none', ref: remote.ref, line, reason: `${remote.ref} was built with other layer settings (${settingsChanges(remote.record.settingsKey, settingsKey)})` };
    } else {
      previous = remote.record;
      previousInfo = { source: 'registry', ref: remote.ref, line, createdAt: remote.record.createdAt, ...(remote.plannedOn ? (remote.plannedOn.recordTag ? { plannedOnRecord: remote.plannedOn.recordTag } : { plannedOn: remote.plannedOn.line }) : {}) };
    }
  } else {
    const found = await previousBuild(await lastBuildOf(i), config.game, reporter);
    const last = found?.record;
    // The last build of other layer settings (a mount moved, another target size) is not built on: said by name.
    const otherSettings = last && last.settingsKey !== settingsKey ? last : undefined;
    previous = otherSettings ? undefined : last;
    previousInfo = previous
      ? { source: 'local', ref: found!.file, createdAt: previous.createdAt }
      : otherSettings
        ? { source: 'none', reason: `${fromNone ? '--from none, and ' : ''}the last build (${otherSettings.tags[0] ?? LAST_BUILD}) was built with other layer settings (${settingsChanges(otherSettings.settingsKey, settingsKey)})` }
        : { source: 'none', reason: fromNone ? '--from none, and no earlier build in .gamelayer/' : 'no earlier build in .gamelayer/' };
  }
  // The line as its tag names it (a branch like release/1.4 is release-1.4-<hash> there).
  const lineName = line === undefined ? line : lineTag(line).slice(LINE_TAG_PREFIX.length);
  // The repository the line was looked for in: --push's, else --from REPO's.
  const lineRepository = i.push ?? i.from;
  if (otherLine) reporter.warn(`line "${lineName}" has no build in ${repositoryOf(lineRepository!)} yet, and ${otherLine}: every tree is planned afresh`);
  if (remote?.plannedOn?.recordTag) {
    const of = `${remote.plannedOn.line ? `line ${remote.plannedOn.line}, ` : ''}built ${remote.record.createdAt}`;
    const how = previous ? `planned on its newest build record (${remote.ref}, ${of})` : `its newest build record (${remote.ref}, ${of}) was built with other layer settings: every tree is planned afresh`;
    // A build of one platform of several never tags the line (gamelayer index does, for the merged build): before the
    // first merge a repository holds no line tag, and that is no deletion this push repairs.
    const platformBuild = i.platforms !== undefined && i.platforms.length < config.platforms.length;
    const lineTagNote = platformBuild
      ? `${lineTag(line!)}, nor another line's: builds of one platform leave it to gamelayer index`
      : `${lineTag(line!)}, nor another line's; deleted?`;
    const after = platformBuild ? 'gamelayer index tags the line once the platforms are merged' : 'this push tags the line again';
    reporter.info(`note: ${repositoryOf(lineRepository!)} has no line tag (${lineTagNote}): ${how}; ${i.push ? after : 'a push of this build tags the line'}; --from none plans afresh`);
  } else if (remote?.plannedOn) {
    const how = previous ? `planned on line ${remote.plannedOn.line}'s newest build (${remote.ref}, built ${remote.record.createdAt})` : `line ${remote.plannedOn.line}'s newest build (${remote.ref}) was built with other layer settings: every tree is planned afresh`;
    reporter.info(`note: line ${lineName} has no build in ${repositoryOf(lineRepository!)} yet: ${how}; --from none plans afresh`);
  }
  if (remote?.gone.length && previous) {
    const trees = [...new Set(remote.gone.map((l) => l.tree))];
    reporter.warn(`${count(remote.gone.length, 'layer')} of ${remote.ref} ${remote.gone.length === 1 ? 'is' : 'are'} gone from ${remote.repository}: ${trees.join(', ')} ${trees.length === 1 ? 'is' : 'are'} rebuilt from the sources`);
  }
  // A kept layer of a registry record is the record's own layer (same digest on every host), never a local variant.
  return { record: previous, info: previousInfo, remote, kept: previous && remote ? remote.present : undefined };
}

/**
 * This game's last build record (whatever its settings) and its file; a corrupt record is reported and ignored.
 * `lastFile` is the last build into this config's store (state/last-build.ts), which two games' configs sharing one
 * store and state folder share too: when it is another game's, this game's newest record is taken. Game A planned on
 * game B's last build, rebuilt every tree that differs between the games, and diffed them.
 */
async function previousBuild(lastFile: string, game: string, reporter: Reporter): Promise<{ record: BuildRecord; file: string } | undefined> {
  const own = recordHead(lastFile).game;
  const file = own === undefined || own === game ? lastFile : (await newestRecords(path.dirname(lastFile), 1, game))[0];
  if (file === undefined) return undefined;
  let record: AnyRecord;
  try {
    record = await readRecord(file);
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'record.missing') return undefined;
    if (e instanceof GamelayerError) {
      reporter.warn(`${e.message}; planning every tree afresh`);
      return undefined;
    }
    throw e;
  }
  if (record.kind !== 'build' || record.game !== game) return undefined;
  return { record, file };
}

export interface FindPreviousOptions {
  /** --from: an image whose record is the previous build. */
  from?: string;
  /** --push: the repository the build goes to. */
  push?: string;
  line: string;
  registry: TargetOptions;
  /** With --push: the folder of the local copies of line records (line-copy.ts); undefined: none read or kept. */
  copyDir?: string;
  /** This host's record-blob copies (record-blob-cache.ts): a record read by an earlier command is not downloaded again. */
  recordCache?: string;
  /**
   * With --push: tags the push will set (its images', its record's), asked beside the kept layers' HEADs with the
   * push's access; the push takes the answers while fresh instead of asking in a round of its own. A tag that cannot
   * be asked (not a valid tag) is left to the push.
   */
  askTags?: string[];
  /**
   * With --push: called once the lookup's first questions are out (the line tag's; with this host's copy of the
   * line's record, once the copy was read and checked and the questions its record raises were asked too).
   */
  onAsked?: () => void;
}

/** undefined when the repository has no record of the line yet; every other problem is an error. */
export async function findRegistryPrevious(o: FindPreviousOptions): Promise<RegistryPrevious | undefined> {
  let record: BuildRecord;
  let ref: string;
  let repository: string;
  let pushTarget: PushTarget | undefined;
  let recordRead: RegistryPrevious['recordRead'];
  // A record read from this host's copy: the registry's record blob, being read and checked beside the layers' HEADs.
  let blobServed: Promise<void> | undefined;
  let plannedOn: RegistryPrevious['plannedOn'];
  let earlyTags: Promise<{ answers: Map<string, ManifestInfo | undefined>; at: number }> | undefined;
  // The sizes of the layers of this host's copy of the line's record, asked before the line tag was answered.
  let earlySizes: { key: string; sizes: Promise<Map<string, number>> } | undefined;
  // --from's repository, read with one target (one token): its record, then the kept layers --push's lacks (keptIn).
  const fromTarget = o.from ? await pushTargetFor(parseReference(o.from), readOnly(o.registry)) : undefined;
  const fromRepository = o.from !== undefined && !parseReference(o.from).tag && !parseReference(o.from).digest;
  if (o.from && fromRepository) {
    // --from REPO: the newest build of the line in that repository (a PR check builds on its target branch's).
    const found = await fetchLineRecord(o.from, o.line, { ...o.registry, target: fromTarget, recordCache: o.recordCache });
    if (found) {
      record = found.record;
      recordRead = { repository: o.from, blob: found.recordBlob };
      ref = `${repositoryOf(o.from)}:${found.tag}`;
    } else {
      // The line's first build, as with --push (and as `diff --against REPO` compares): planned on the line it most
      // likely came from. It planned afresh, so a pull-request check into a new branch showed every layer as new.
      const other = await otherLineRecord(o.from, o.line, { ...o.registry, target: fromTarget });
      if (!other) return undefined;
      record = other.found.record;
      plannedOn = other.line;
      recordRead = { repository: o.from, blob: other.found.recordBlob };
      ref = `${repositoryOf(o.from)}:${other.found.tag}`;
    }
    repository = o.push ?? o.from;
  } else if (o.from) {
    const r = parseReference(o.from);
    const found = await fetchBuildRecordFor(o.from, { ...readOnly(o.registry), target: fromTarget, recordCache: o.recordCache });
    record = found.record;
    recordRead = { repository: repositoryOf(o.from), blob: found.recordBlob };
    ref = formatReference(r);
    repository = o.push ?? repositoryOf(o.from);
  } else if (o.push) {
    // One target for the line's record and its layers (one set of credentials, one ECR token).
    pushTarget = await pushTargetFor(parseReference(o.push), o.registry);
    // With this host's copy of the line's record (it pushed the line before: a rebuild, a no-op above all), the
    // push's tags are asked at once, beside the line tag's HEAD and the ping: they need nothing the record says.
    const r = parseReference(o.push);
    const copySize = o.copyDir !== undefined ? lineCopySize(o.copyDir, `${pushTarget.client.host}/${r.repository}`, lineTag(o.line)) : undefined;
    if (o.askTags?.length && copySize !== undefined) earlyTags = stamped(tagAnswers(pushTarget, r.repository, o.askTags));
    // The caller waits for the copy's questions only when its record is small (read and checked in milliseconds): a
    // large one's parse (a 100k-file game's 3 MiB, a second of CPU for 1M entries) would hold back the build's start,
    // whose scan it overlapped; its layers' HEADs then go out once it is read, whenever that is.
    if (copySize === undefined || copySize > WAIT_FOR_COPY_MAX_BYTES) o.onAsked?.();
    // The kept layers' HEADs go out as soon as this host's copy of the line's record checks out, beside the line
    // tag's HEAD (one round): their answers are taken below only for the layers of the record the tag names.
    const lineTarget = pushTarget;
    const found = await fetchLineRecord(o.push, o.line, {
      ...o.registry,
      target: lineTarget,
      copyDir: o.copyDir,
      recordCache: o.recordCache,
      onCopyRead: (copied) => {
        if (copied) {
          const digests = layerDigests(copied);
          const sizes = blobSizes(lineTarget, r.repository, digests);
          sizes.catch(() => undefined);
          earlySizes = { key: digests.join(','), sizes };
        }
        o.onAsked?.();
      },
    });
    if (found) {
      record = found.record;
      blobServed = found.blobServed;
      recordRead = {
        repository: o.push,
        blob: found.recordBlob,
        ...(found.documents ? { blobBytes: found.documents.blob.bytes } : {}),
        lineTag: { tag: found.tag, named: found.tagNamed, at: Date.now() },
        ...(o.copyDir !== undefined && found.documents ? { copied: found.documents.index.digest } : {}),
      };
      ref = `${repositoryOf(o.push)}:${found.tag}`;
    } else {
      // The line's first build: planned on the line it most likely came from (line-fallback.ts), else afresh.
      const other = await otherLineRecord(o.push, o.line, { ...o.registry, target: pushTarget });
      if (!other) return undefined;
      record = other.found.record;
      plannedOn = other.line;
      // Not this line's tag nor its local copy: the push asks its own line tag, and keeps no copy of another line's.
      recordRead = { repository: o.push, blob: other.found.recordBlob, ...(other.found.documents ? { blobBytes: other.found.documents.blob.bytes } : {}) };
      ref = `${repositoryOf(o.push)}:${other.found.tag}`;
    }
    repository = o.push;
  } else return undefined;
  // Without --push the layers are asked in --from's repository: with the target that read its record (one client,
  // one token per scope), not a second one made for it.
  const target = pushTarget ?? (!o.push && fromTarget ? fromTarget : await pushTargetFor(parseReference(repository), o.registry));
  // The client's ping goes with the layers' HEADs, not in a round of its own in the push that follows (it gets
  // this target: BuildResult.previousTarget).
  const repo = parseReference(repository).repository;
  const asked = earlyTags ?? (pushTarget && o.askTags?.length ? stamped(tagAnswers(pushTarget, repo, o.askTags)) : undefined);
  const digests = layerDigests(record);
  // Asked already when the record is the copy's (the same layers in the same repository): not asked twice.
  const sizesAsked = earlySizes?.key === digests.join(',') && repository === o.push ? earlySizes.sizes : blobSizes(target, repo, digests);
  // The record's images, whose configs prove the kept layers' diffIDs (record-diffids.ts), read beside the HEADs; not
  // for a record this host proved (or pushed) before.
  const saidAsked = (await recordProven(o.copyDir, recordRead.blob)) ? undefined : imageDiffIdsOf(record, ref, recordRead.repository, repository, target, o.registry);
  saidAsked?.catch(() => undefined);
  const [sizes, , , answers] = await Promise.all([sizesAsked, target.client.ping(), blobServed, asked]);
  // When they were answered: the push takes them only while fresh.
  if (answers) recordRead = { ...recordRead, tagsNamed: answers };
  // --from another repository than --push's: what the pushed-to one lacks is kept when the record's own repository
  // holds it (the push mounts it from there, or copies it): game D built on game A's build packed A's engine again.
  const lacking = digests.filter((d) => !sizes.has(d));
  const keptIn = lacking.length && repositoryOf(recordRead.repository) !== repositoryOf(repository) ? recordRead.repository : undefined;
  // keptIn is --from's repository (the record's): asked with the target that read the record.
  const sizesThere = keptIn && fromTarget ? await blobSizes(fromTarget, parseReference(keptIn).repository, lacking) : new Map<string, number>();
  const present = new Map<string, BuiltLayer>();
  const gone: BuiltLayer[] = [];
  for (const l of record.layers) {
    const where = sizes.has(l.digest) ? repository : keptIn!;
    const size = sizes.get(l.digest) ?? sizesThere.get(l.digest);
    if (size === undefined) gone.push(l);
    else if (size !== l.size) {
      // A blob's size is fixed by its digest, so the record names this layer wrongly (a record that lies, as one
      // with a bad digest: not built on, planned afresh); a damaged registry copy instead is refused by the push,
      // whose HEAD of each blob it would skip checks the size (client.blobExists).
      throw new DamagedRecordError(`${ref}: layer ${l.digest} (${l.tree} layer ${l.index}) has ${l.size} bytes in the record, ${size} in ${repositoryOf(where)}`);
    } else present.set(l.inputKey, l);
  }
  // A kept layer's diffID goes into this build's configs as the record gives it: only once an image of the record says
  // so. Settled here, judged by the build that would build on the record (findPrevious): a record of other settings
  // is not built on, so what its images say does not matter there (it was warned of as damaged).
  const diffIdProblem = saidAsked ? keptDiffIdProblem(saidAsked, record, present, ref, recordRead, o.copyDir) : Promise.resolve(undefined);
  diffIdProblem.catch(() => undefined);
  if (lacking.length) recordRead = { ...recordRead, lost: lacking };
  const heldThere = sizesThere.size ? { keptIn: keptIn! } : {};
  return { ref, record, repository, present, gone, recordRead, target, diffIdProblem, ...heldThere, ...(plannedOn ? { plannedOn } : {}) };
}

/** Why the record's images contradict its kept layers' diffIDs (checkKeptDiffIds), or undefined; proven records marked. */
async function keptDiffIdProblem(
  saidAsked: Promise<ImageDiffIds>,
  record: BuildRecord,
  present: Map<string, BuiltLayer>,
  ref: string,
  recordRead: { repository: string; blob: string },
  copyDir: string | undefined,
): Promise<string | undefined> {
  try {
    const said = await saidAsked;
    checkKeptDiffIds(record, present.values(), said, ref, repositoryOf(recordRead.repository));
    // Proven whole only when its images named every layer (a layer gone with its images is checked when it is back).
    if (record.layers.every((l) => said.has(l.digest))) await markRecordProven(copyDir, recordRead.blob);
    return undefined;
  } catch (e) {
    if (e instanceof DamagedRecordError) return e.message;
    throw e;
  }
}

/** recordImageDiffIds of the record's images, in the repository the record was read from (with its own client when not `repository`'s). */
async function imageDiffIdsOf(record: BuildRecord, ref: string, imagesAt: string, repository: string, target: PushTarget, registry: TargetOptions): Promise<ImageDiffIds> {
  const r = parseReference(imagesAt);
  const client = repositoryOf(imagesAt) === repositoryOf(repository) ? target.client : (await pushTargetFor(r, registry)).client;
  return recordImageDiffIds(client, r.repository, record, ref);
}

/** The largest copy of a line's record the CLI waits for (read, checked, its questions asked) before the build starts. */
export const WAIT_FOR_COPY_MAX_BYTES = 1 << 20;

/** The distinct blobs a record's layers name, in order. */
function layerDigests(record: BuildRecord): string[] {
  return [...new Set(record.layers.map((l) => l.digest))];
}

/** `answers` with the time they came. */
function stamped<T>(answers: Promise<T>): Promise<{ answers: T; at: number }> {
  return answers.then((a) => ({ answers: a, at: Date.now() }));
}

/** What each tag names (undefined: no such tag), asked side by side as the push asks; a tag whose HEAD fails is left out. */
async function tagAnswers(target: PushTarget, repo: string, tags: string[]): Promise<Map<string, ManifestInfo | undefined>> {
  const out = new Map<string, ManifestInfo | undefined>();
  await Promise.all(
    [...new Set(tags)].map((t) =>
      target.client.headManifest(repo, t, 'push').then(
        (named) => void out.set(t, named),
        () => undefined,
      ),
    ),
  );
  return out;
}

function repositoryOf(ref: string): string {
  const r = parseReference(ref);
  return `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}`;
}

/**
 * The line of work a build belongs to, by default: GAMELAYER_LINE, else the branch of a CodeBuild webhook build
 * (CODEBUILD_WEBHOOK_HEAD_REF, `refs/heads/x` → `x`; tags → `tags`), else a branch in CODEBUILD_SOURCE_VERSION, else
 * the checked-out git branch of `dir`, else the CodePipeline that started the build, else `default`. The same on
 * every host building the same branch, so a fresh host finds what a warm one used.
 */
export async function defaultLine(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ line: string; from: string }> {
  if (env.GAMELAYER_LINE) return { line: env.GAMELAYER_LINE, from: 'GAMELAYER_LINE' };
  const head = env.CODEBUILD_WEBHOOK_HEAD_REF;
  if (head) {
    if (head.startsWith('refs/tags/')) return { line: 'tags', from: 'CODEBUILD_WEBHOOK_HEAD_REF' };
    return { line: head.replace(/^refs\/heads\//, ''), from: 'CODEBUILD_WEBHOOK_HEAD_REF' };
  }
  const branch = sourceVersionBranch(env);
  if (branch) return { line: branch, from: 'CODEBUILD_SOURCE_VERSION' };
  const checkedOut = await gitBranch(dir, env);
  if (checkedOut) return { line: checkedOut, from: 'git branch' };
  // A CodePipeline run names its input artifact in CODEBUILD_SOURCE_VERSION (a new S3 object every run) and the
  // artifact holds no .git: the pipeline is what stays the same from one run to the next.
  const pipeline = /^codepipeline\/(.+)$/.exec(env.CODEBUILD_INITIATOR ?? '')?.[1];
  if (pipeline) return { line: pipeline, from: 'CODEBUILD_INITIATOR' };
  return { line: 'default', from: 'no branch found' };
}

/**
 * The branch a build started by hand names in CODEBUILD_SOURCE_VERSION (`main`, `refs/heads/main`, or with the commit
 * `refs/heads/main^{<sha>}`), else undefined: a commit, a tag, a pull request, an S3 object version (an S3 source) or
 * a CodePipeline input artifact (`arn:aws:s3:::…`, another object every run) is no line, and taken for one it made
 * every build a new line's first.
 */
function sourceVersionBranch(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CODEBUILD_SOURCE_REPO_URL?.startsWith('s3://')) return undefined;
  const version = env.CODEBUILD_SOURCE_VERSION?.replace(/\^\{[0-9a-f]+\}$/, '');
  // A git ref name never holds ":" (git check-ref-format), an ARN always does.
  if (!version || version.includes(':') || /^[0-9a-f]{40}$/.test(version) || /^pr\/\d+$/.test(version)) return undefined;
  if (version.startsWith('refs/') && !version.startsWith('refs/heads/')) return undefined;
  return version.replace(/^refs\/heads\//, '');
}
