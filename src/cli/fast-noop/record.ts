// The full path's half of the fast path (README.md, "The checked fast path of a no-op build --push"): a `build
// --push` the fast path may answer (output-tap.ts kept what it printed) whose run turns out to be a no-op writes its
// stamp (stamp.ts) for the next run of the same command. The trees are walked before the build reads them and again
// once it is done: a file changed meanwhile (the build saw one content, the walk another) leaves no stamp. Only what
// the fast path can check the same way is stamped: one repository (not ECR), the store in the state folder, the line
// named by --line or the environment (not the git branch), a base that is scratch or in a registry, no proxy.
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GameConfig } from '../../config/load.js';
import { parseBaseRef } from '../../oci/base-image.js';
import { isEcrHost } from '../../registry/ecr-host.js';
import { parseReference, registryBaseUrl } from '../../registry/reference.js';
import { writeRequestsSent } from '../../registry/transport.js';
import type { PushBuildResult } from '../../pipeline/steps/push.js';
import type { BuildResult } from '../../pipeline/build.js';
import { recordHead, sameBuildHead } from '../../state/record-head.js';
import { lastBuildFile } from '../../state/records.js';
import { withRecordsLock } from '../../state/records-lock.js';
import type { BuildRecord } from '../../types.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { candidateConfig, DEBUG_VAR, keyDifference, runKey, usesProxy } from './key.js';
import { pendingStamp, type PendingStamp } from './output-tap.js';
import { maskedOutput } from './replay.js';
import { stampFile, stampText, type BaseCheck, type RegistryPlace, type Stamp, type TagCheck } from './stamp.js';
import { RACY_WINDOW_MS } from '../../scan/stat-cache.js';
import { blobIdentities, headHash, stateWalkHash, treeWalkHash, type WalkSeen } from './tree-walk.js';

/** Where the line came from: only --line and the environment are in the key (the git branch is not). */
const LINE_FROM_KEY = new Set(['--line', 'GAMELAYER_LINE', 'CODEBUILD_WEBHOOK_HEAD_REF', 'CODEBUILD_SOURCE_VERSION']);

/** How long before the run a config must have been written for its stamp (the file clock's lag, with margin). */
const CONFIG_SETTLED_MS = 1000;

/** A record blob larger is not stamped: the fast path reads it whole on each run. */
const MAX_RECORD_BLOB = 32 << 20;

/** What the stamp reads of the build: its summary, its record's file, layers and pinned bases. */
type NoopBuild = Pick<BuildResult, 'summary' | 'recordFile' | 'rerunNote'> & { record: Pick<BuildRecord, 'bases' | 'layers'> };

export interface NoopStamping {
  /** The build and its push are done and printed: stamps the run if it was a no-op. */
  done(result: NoopBuild, pushed: PushBuildResult): void;
}

/**
 * Called once the config is read, before the trees are: removes this command's stamp (the run may change what it
 * vouched for) and, when the run could be stamped, walks the trees. Undefined when it cannot.
 */
export async function beginNoopStamp(config: GameConfig, pushTo: readonly string[], lineFrom: string | undefined): Promise<NoopStamping | undefined> {
  // Best effort: a stamp not written costs the next run the full path, never this run its build.
  return stamping(config, pushTo, lineFrom).catch(() => undefined);
}

async function stamping(config: GameConfig, pushTo: readonly string[], lineFrom: string | undefined): Promise<NoopStamping | undefined> {
  const pending = pendingStamp();
  if (!pending) return undefined;
  // This run's writes only: a stamp pass follows its build's in the same process.
  const writesBefore = writeRequestsSent();
  const file = stampFile(config.stateDir, process.cwd(), pending.argv);
  await rm(file, { force: true }).catch(() => {});
  if (pending.off) return undefined;
  const target = parseReference(pushTo[0]!);
  const base = parseBaseRef(config.baseImage, config.dir);
  const unstampable =
    pushTo.length !== 1 ? 'several --push'
    : !lineFrom || !LINE_FROM_KEY.has(lineFrom) ? `the line is not named by --line or the environment (${lineFrom ?? 'none'})`
    : usesProxy(pending.env) ? 'a proxy is set'
    : config.store !== path.join(config.stateDir, 'oci') ? 'the store is not the state folder\'s'
    : candidateConfig(pending.argv, process.cwd()) !== path.resolve(config.file) ? 'the config is not where the command line says'
    // An ECR token comes from the AWS SDK; a written scheme is not what the stamp's URLs say.
    : isEcrHost(target.registry) || target.scheme ? 'the repository is in ECR or written with a scheme'
    : base.kind !== 'scratch' && base.kind !== 'registry' ? `the base is a local ${base.kind} image`
    : baseByTagInEcr(base) ? 'the base is named by tag in ECR'
    // A studio's no-op reads the other games' line records (pipeline/studio-layers.ts), which no stamp checks.
    : config.mountFrom?.length ? 'mountFrom: names other games\' repositories'
    : undefined;
  if (unstampable) {
    notStamped(pending, unstampable);
    return undefined;
  }
  // The key as the run began. The config was read before this call: one written since the process started (or
  // just before: file times come from a coarse clock) may not be the text the build took, and is not stamped.
  const salt = randomBytes(32).toString('hex');
  const key = runKey(pending.argv, path.resolve(config.file), pending.bundleDir, pending.env, salt);
  const skip = [config.stateDir, config.store];
  const roots = [...new Set(Object.values(config.trees).flatMap((t) => Object.values(t.sources)))].sort();
  const walk = (seen?: WalkSeen) => Object.fromEntries(roots.map((r) => [r, treeWalkHash(r, skip, seen)]));
  const walkedAtNs = BigInt(Date.now()) * 1_000_000n;
  const seen: WalkSeen = { mtimeNs: 0n, entries: 0 };
  const before = walk(seen);
  const pass = { entries: seen.entries, notBeforeMs: Number(seen.mtimeNs / 1_000_000n) + RACY_WINDOW_MS };
  // Checked once the trees are walked: a pass after a build of a config just written is still bounded by their size.
  const configTime = statSync(config.file, { bigint: true });
  const settled = BigInt(pending.startedAtMs - CONFIG_SETTLED_MS) * 1_000_000n;
  if (configTime.mtimeNs >= settled || configTime.ctimeNs >= settled) return passOnly(pending, pass, writesBefore, 'the config was written as it started');
  // A file written in the scan's racy window (scan/stat-cache.ts) may be written again under the same identity (a
  // coarse file clock): excluded files too, which the scan never hashes (so its output shows no `hash` line).
  if (seen.mtimeNs >= walkedAtNs - BigInt(RACY_WINDOW_MS) * 1_000_000n) return passOnly(pending, pass, writesBefore, `a file of a tree was written in the ${RACY_WINDOW_MS} ms before it started`);
  return {
    done(result, pushed) {
      let checks;
      let changed: string | undefined;
      try {
        changed = changedSomething(result, pushed, writesBefore);
        checks = changed ?? noopChecks(config, result, pushed);
      } catch (e) {
        checks = `its outcome unreadable: ${(e as Error).message}`;
      }
      if (typeof checks === 'string') {
        if (changed) askPass(pending, pass, result, pushed);
        return notStamped(pending, checks);
      }
      pending.finish = async (stdout, stderr) => {
        if (pending.overflowed) return notStamped(pending, 'its output was too large to keep');
        const output = maskedOutput(stdout, stderr);
        if (!output) return notStamped(pending, 'its output holds timings or control characters');
        if (JSON.stringify(walk()) !== JSON.stringify(before)) return notStamped(pending, 'a tree changed while it ran');
        if (keyDifference(key, runKey(pending.argv, path.resolve(config.file), pending.bundleDir, pending.env, salt))) return notStamped(pending, 'its key changed while it ran');
        // The state as this build left it: a build of another tag since (its record now the last-build pointer)
        // would be vouched for, and the full path would point back at this one. Under the records lock, which
        // moves the pointer; the fast path reads the pointer's head again (its sha256 below).
        const pointer = lastBuildFile(config);
        const head = recordHead(result.recordFile);
        // The head before the walk: a pointer written between them leaves a stamp whose head and walk disagree.
        const walked = await withRecordsLock(config.stateDir, async () => {
          if (!sameBuildHead(head, recordHead(pointer))) return undefined;
          const pointerHead = headHash(pointer);
          return { pointerHead, state: stateWalkHash(config.stateDir) };
        });
        if (walked === undefined) return notStamped(pending, 'the last-build pointer names another build');
        const { state, pointerHead } = walked;
        const stamp: Stamp = {
          key,
          trees: before,
          state,
          storeBlobs: blobIdentities(storeBlobFiles(config.store, pushed.images.map((i) => i.digest), result.record.layers.map((l) => l.digest))),
          lastBuild: { file: pointer, head: pointerHead },
          ...(result.rerunNote ? { rerunNote: { file: result.rerunNote.file, text: result.rerunNote.text } } : {}),
          stateDir: config.stateDir,
          skip,
          ...checks,
          ...output,
        };
        await mkdir(path.dirname(file), { recursive: true });
        // Owner only: the stamp names the environment's variables and what the run printed.
        await writeFileAtomic(file, (tmp) => writeFile(tmp, stampText(stamp), { flag: 'wx', mode: 0o600 }));
      };
    },
  };
}

/** A base named by tag in ECR: the fast path would have to ask it for its tag, with a token only the AWS SDK gets. */
function baseByTagInEcr(base: ReturnType<typeof parseBaseRef>): boolean {
  if (base.kind !== 'registry') return false;
  const ref = parseReference(base.ref);
  return !ref.digest && isEcrHost(ref.registry);
}

/** GAMELAYER_DEBUG_FAST_NOOP: why this run left no stamp (after what it printed: not part of its output). */
function notStamped(pending: PendingStamp, why: string): void {
  if (pending.env[DEBUG_VAR]) process.on('exit', () => process.stderr.write(`gamelayer: no-op not stamped: ${why}\n`));
}

/** What a stamp pass needs to know of the run's first walk. */
interface PassWalk {
  entries: number;
  /** Once a file's mtime is this far behind, the scan's racy window is over. */
  notBeforeMs: number;
}

/**
 * A run that cannot be stamped for now (a file just written, a config just saved): a build or push it makes still
 * asks for a stamp pass, which checks the same when it runs.
 */
function passOnly(pending: PendingStamp, walked: PassWalk, writesBefore: number, why: string): NoopStamping {
  return {
    done(result, pushed) {
      try {
        if (changedSomething(result, pushed, writesBefore)) askPass(pending, walked, result, pushed);
      } catch {
        // Its outcome unreadable: no pass.
      }
      notStamped(pending, why);
    },
  };
}

/**
 * The stamp pass (stamp-pass.ts) is a no-op run of the whole command in this process, paid by the build that pushed
 * so that the next run of it is answered from the stamp. It grows with the trees (its rescan and two lstat walks)
 * faster than what it saves that run (Node's start and the CLI's load, then a rescan against a walk). Measured
 * (bench/README.md, "Stop 50: the stamp pass"): on 260 files it costs a build about 0.09 s and saves the re-run
 * about 0.10 s; on 20,000 it costs 0.51–0.55 s and saves about 0.2 s. Past this bound, where it would cost about 1.5
 * times what it saves, no pass: the first re-run is the full path's, which stamps.
 */
export const PASS_MAX_ENTRIES = 4_000;

/**
 * A build that built or pushed: a stamp pass runs its command again once it is done, a no-op that stamps what the
 * next run will find — unless its stamp could not be written anyway (too many entries to walk cheaply, a record blob
 * too large to read again on every run). Not from a stamp pass: a pass that built runs no other.
 */
function askPass(pending: PendingStamp, walked: PassWalk, result: NoopBuild, pushed: PushBuildResult): void {
  if (pending.pass) return;
  if (walked.entries > PASS_MAX_ENTRIES) return notStamped(pending, `no stamp pass: the trees hold ${walked.entries} entries (above ${PASS_MAX_ENTRIES})`);
  if ((pushed.record.recordBlob?.size ?? 0) > MAX_RECORD_BLOB) return notStamped(pending, 'no stamp pass: its record blob is too large to read again');
  // What the pass must find to be a no-op of this very build (pipeline/stamp-pass-check.ts): else it writes nothing.
  const of = { layers: result.record.layers.map((l) => l.inputKey), bases: (result.record.bases ?? []).map((b) => b.digest) };
  pending.wantsPass = { notBeforeMs: walked.notBeforeMs, of };
}

/** Why the run was not a no-op (it built, or wrote to the registry since `writesBefore`), or undefined. */
function changedSomething(result: NoopBuild, pushed: PushBuildResult, writesBefore: number): string | undefined {
  const s = result.summary;
  const built = !s.layers.every((l) => l.reused) || s.bytesNew !== 0 || (s.baseMoved?.length ?? 0) > 0 || (s.remoteLayers?.gone ?? 0) > 0;
  const r = pushed.record;
  const sent =
    writeRequestsSent() !== writesBefore ||
    pushed.bytesSent !== 0 ||
    pushed.blobs.uploaded + pushed.blobs.mounted !== 0 ||
    !pushed.images.every((i) => i.upToDate && i.manifestsPut.length === 0) ||
    r.blobsUploaded !== 0 ||
    r.bytesSent !== 0 ||
    r.repaired !== undefined ||
    r.lineNewer !== undefined ||
    r.kept.length !== 0 ||
    r.lineTag === undefined;
  if (built) return 'it built';
  if (sent) return 'it wrote to the registry';
  return undefined;
}

/** What the fast path must ask the registry again, when the run was a no-op (nothing built, nothing written there); else why not. */
function noopChecks(config: GameConfig, result: NoopBuild, pushed: PushBuildResult): Pick<Stamp, 'tags' | 'blobs' | 'bases' | 'recordBlob'> | string {
  const r = pushed.record;
  if (!r.recordBlob) return 'no record blob';
  if (r.recordBlob.size > MAX_RECORD_BLOB) return 'its record blob is too large to read again';
  const target = parseReference(pushed.repository);
  const place = registryPlace(target.registry);
  const tag = (t: string, digest: string): TagCheck => ({ ...place, repository: target.repository, tag: t, digest });
  const tags = [...pushed.images.flatMap((i) => i.tags.map((t) => tag(t, i.digest))), ...[...r.tags, r.lineTag!].map((t) => tag(t, r.digest))];
  // The kept layers, tree markers too: a blob deleted from the repository leaves the manifests naming it in place.
  const blobs = [...new Map(result.record.layers.map((l) => [l.digest, { ...place, repository: target.repository, digest: l.digest, size: l.size }])).values()];
  const bases: BaseCheck[] = [];
  const base = parseBaseRef(config.baseImage, config.dir);
  if (base.kind === 'registry') {
    const ref = parseReference(base.ref);
    const pinned = result.record.bases ?? [];
    if (!pinned.length) return 'no pinned base';
    // A base named by digest is that image for ever: nothing to ask.
    if (!ref.digest) {
      bases.push({ ...registryPlace(ref.registry), repository: ref.repository, tag: ref.tag ?? 'latest', platforms: Object.fromEntries(pinned.map((b) => [b.platform, b.digest])) });
    }
  }
  return { tags, blobs, bases, recordBlob: { ...place, repository: target.repository, ...r.recordBlob } };
}

/** A registry as the stamp names it: the URL the client speaks to, and the host the credentials are found by. */
export function registryPlace(registry: string): RegistryPlace {
  return { url: registryBaseUrl(registry).origin, registry };
}


/** A manifest or index of the store larger is not read: the run is not stamped. */
const MAX_MANIFEST = 4 << 20;

/**
 * The files in the store of the `images` (indexes or manifests), every blob they name (platform manifests, configs,
 * layers), and the record's `layers`, each once. The store is this run's own, just pushed from: its manifests are read as they are.
 */
function storeBlobFiles(store: string, images: readonly string[], layers: readonly string[]): string[] {
  const files = new Map<string, string>();
  const visit = (digest: string, parse: boolean) => {
    if (files.has(digest) || !/^sha256:[0-9a-f]{64}$/.test(digest)) return;
    const file = path.join(store, 'blobs', 'sha256', digest.slice('sha256:'.length));
    files.set(digest, file);
    if (!parse) return;
    if (lstatSync(file).size > MAX_MANIFEST) throw new Error(`${digest}: a manifest above ${MAX_MANIFEST} bytes`);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { manifests?: { digest?: unknown }[]; config?: { digest?: unknown }; layers?: { digest?: unknown }[] };
    for (const m of doc.manifests ?? []) if (typeof m.digest === 'string') visit(m.digest, true);
    for (const d of [doc.config, ...(doc.layers ?? [])]) if (typeof d?.digest === 'string') visit(d.digest, false);
  };
  for (const d of images) visit(d, true);
  for (const d of layers) visit(d, false);
  return [...files.values()];
}
