// The previous build read from the registry: the registry is the build state, local files only speed things up.
// With --push REPO the newest record of this line of work (the tag gamelayer-line.<line>) is the previous build; with
// --from REF, the record of that image. Its layers are never downloaded: a kept layer only needs digest, size and
// diffID (all in the record) and its presence, with that size, in the repository the images go to.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { fetchBuildRecordFor, fetchLineRecord } from '../registry/artifact.js';
import { pullScope } from '../registry/auth.js';
import { pushTargetFor, type PushTarget, type TargetOptions } from '../registry/push.js';
import { formatReference, parseReference } from '../registry/reference.js';
import type { BuildRecord, BuiltLayer } from '../types.js';

export interface RegistryPrevious {
  /** What was read, as printed: `host/repo:gamelayer-line.<line>` or the --from reference. */
  ref: string;
  record: BuildRecord;
  /** `host/repo` (with scheme when given) that must hold every kept layer. */
  repository: string;
  /** Layers of the record present in `repository` with their recorded size, by inputKey. */
  present: Map<string, BuiltLayer>;
  /** Layers of the record no longer in `repository` (lifecycle policy, manual delete): their trees are rebuilt. */
  gone: BuiltLayer[];
}

export interface FindPreviousOptions {
  /** --from: an image whose record is the previous build. */
  from?: string;
  /** --push: the repository the build goes to. */
  push?: string;
  line: string;
  registry: TargetOptions;
}

/** undefined when the repository has no record of the line yet; every other problem is an error. */
export async function findRegistryPrevious(o: FindPreviousOptions): Promise<RegistryPrevious | undefined> {
  let record: BuildRecord;
  let ref: string;
  let repository: string;
  const fromRepository = o.from !== undefined && !parseReference(o.from).tag && !parseReference(o.from).digest;
  if (o.from && fromRepository) {
    // --from REPO: the newest build of the line in that repository (a PR check builds on its target branch's).
    const found = await fetchLineRecord(o.from, o.line, o.registry);
    if (!found) return undefined;
    record = found.record;
    ref = `${repositoryOf(o.from)}:${found.tag}`;
    repository = o.push ?? o.from;
  } else if (o.from) {
    const r = parseReference(o.from);
    ({ record } = await fetchBuildRecordFor(o.from, o.registry));
    ref = formatReference(r);
    repository = o.push ?? repositoryOf(o.from);
  } else if (o.push) {
    const found = await fetchLineRecord(o.push, o.line, o.registry);
    if (!found) return undefined;
    record = found.record;
    ref = `${repositoryOf(o.push)}:${found.tag}`;
    repository = o.push;
  } else return undefined;
  const target = await pushTargetFor(parseReference(repository), o.registry);
  const sizes = await blobSizes(target, parseReference(repository).repository, [...new Set(record.layers.map((l) => l.digest))]);
  const present = new Map<string, BuiltLayer>();
  const gone: BuiltLayer[] = [];
  for (const l of record.layers) {
    const size = sizes.get(l.digest);
    if (size === undefined) gone.push(l);
    else if (size !== l.size) {
      throw new GamelayerError(
        'build.registry-blob-size',
        `${repositoryOf(repository)}: layer ${l.digest} (${l.tree} layer ${l.index} of ${ref}) is ${size} bytes there, the build record says ${l.size}`,
        'the registry copy is damaged: delete that blob (or the images using it) from the repository and build again',
      );
    } else present.set(l.inputKey, l);
  }
  return { ref, record, repository, present, gone };
}

/**
 * Sizes of the blobs the repository holds (absent ones are missing from the map): on ECR one
 * BatchCheckLayerAvailability per 100 layers gives both; elsewhere availability, then HEAD for the size.
 */
async function blobSizes(target: PushTarget, repo: string, digests: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (target.availability.sizes) {
    const sizes = await target.availability.sizes(repo, digests);
    const unknown: string[] = [];
    for (const [d, size] of sizes) {
      if (size === undefined) unknown.push(d);
      else out.set(d, size);
    }
    if (!unknown.length) return out;
    digests = unknown;
  }
  const missing = await target.availability.missing(repo, digests);
  const limit = pLimit(8);
  await Promise.all(
    digests
      .filter((d) => !missing.has(d))
      .map((d) =>
        limit(async () => {
          const res = await target.client.request({
            method: 'HEAD',
            target: `/v2/${repo}/blobs/${d}`,
            scopes: [pullScope(repo)],
            ok: [200, 307, 404],
            what: `check blob ${d} in ${repo}`,
          });
          await res.discard();
          // A redirect (storage behind the registry) says present without a size: take the availability's word.
          const length = res.header('content-length');
          if (res.status === 200 && length !== undefined) out.set(d, Number(length));
          else if (res.status === 307) out.set(d, -1);
        }),
      ),
  );
  for (const [d, size] of out) if (size === -1) out.delete(d);
  return out;
}

function repositoryOf(ref: string): string {
  const r = parseReference(ref);
  return `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}`;
}

/**
 * The line of work a build belongs to, by default: GAMELAYER_LINE, else the branch of a CodeBuild webhook build
 * (CODEBUILD_WEBHOOK_HEAD_REF, `refs/heads/x` → `x`; tags → `tags`), else the checked-out git branch of `dir`,
 * else `default`. The same on every host building the same branch, so a fresh host finds what a warm one used.
 */
export async function defaultLine(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ line: string; from: string }> {
  if (env.GAMELAYER_LINE) return { line: env.GAMELAYER_LINE, from: 'GAMELAYER_LINE' };
  const head = env.CODEBUILD_WEBHOOK_HEAD_REF;
  if (head) {
    if (head.startsWith('refs/tags/')) return { line: 'tags', from: 'CODEBUILD_WEBHOOK_HEAD_REF' };
    return { line: head.replace(/^refs\/heads\//, ''), from: 'CODEBUILD_WEBHOOK_HEAD_REF' };
  }
  // A build started by hand names a branch in CODEBUILD_SOURCE_VERSION (or a commit, a tag or pr/N: not lines).
  const version = env.CODEBUILD_SOURCE_VERSION;
  if (version && !/^[0-9a-f]{40}$/.test(version) && !/^pr\/\d+$/.test(version) && !version.startsWith('refs/tags/')) {
    return { line: version.replace(/^refs\/heads\//, ''), from: 'CODEBUILD_SOURCE_VERSION' };
  }
  const branch = await promisify(execFile)('git', ['-C', dir, 'symbolic-ref', '--quiet', '--short', 'HEAD'], { timeout: 10_000 }).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (branch) return { line: branch, from: 'git branch' };
  return { line: 'default', from: 'no branch found' };
}
