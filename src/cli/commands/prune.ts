// gamelayer prune REPO --keep N: old builds (their tags and records) out of a registry repository; dry run unless
// --apply. On ECR, --lifecycle-policy print|apply writes the lifecycle policy that goes with it.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT, GamelayerError } from '../../errors.js';
import { commandReporter, parseKeep, printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';
import { count } from '../../report/plural.js';

interface PruneFlags extends RegistryFlags {
  keep: string;
  tag: string[];
  keepDeployed: string[];
  idleLines?: string;
  apply?: boolean;
  exitCode?: boolean;
  lifecyclePolicy?: string;
  expireDays: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('prune')
    .description('remove old builds (image tags and build records) from a registry repository, keeping the newest N; a dry run unless --apply')
    .argument('<repo>', 'host[:port]/repository')
    .option('--keep <n>', 'newest builds to keep', '5')
    .option('-t, --tag <tag|digest>', 'also keep this build, by tag or by the digest of one of its images, as a deployed spec pins it (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--keep-deployed <file|dir>', "also keep every build whose image this spec pins by digest (k8s / ECS / your own manifests; a folder: its YAML and JSON files; repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option('--idle-lines <days>', "retire lines (branches) whose newest build is this many days older than the repository's newest: their line tag goes, and their newest build is kept only by --keep or --tag")
    .option('--apply', 'delete; without it, only print what would be deleted')
    .option('--exit-code', 'in a dry run, exit 3 when something would be deleted')
    .option('--lifecycle-policy <print|apply>', 'ECR: print the lifecycle policy that expires untagged images, or apply it (PutLifecyclePolicy)')
    .option('--expire-days <n>', 'with --lifecycle-policy: days after push an untagged image expires', '1')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (repo: string, flags: PruneFlags) => {
      const { parseReference } = await import('../../registry/reference.js');
      const { pushTargetFor } = await import('../../registry/push.js');
      const { pruneRepository, lifecyclePolicy, putLifecyclePolicy } = await import('../../registry/prune.js');
      const keep = parseKeep(flags.keep);
      // Checked before the registry is asked anything, and named as given ("abc", not the NaN it parses to).
      const idleLineDays = flags.idleLines === undefined ? undefined : parseIdleDays(flags.idleLines);
      const ref = parseReference(repo);
      if (ref.tag || ref.digest) throw new GamelayerError('push.repository-only', `${repo}: expected a repository without tag or digest`, 'prune works on a whole repository');
      const target = await pushTargetFor(ref, await registryOptions(flags));
      const api = 'api' in target ? (target as { api: import('../../registry/ecr.js').EcrApi }).api : undefined;
      if (flags.lifecyclePolicy !== undefined) {
        if (!['print', 'apply'].includes(flags.lifecyclePolicy)) throw new GamelayerError('cli.lifecycle-policy', `--lifecycle-policy ${flags.lifecyclePolicy}: expected print or apply`);
        const days = Number(flags.expireDays);
        if (!Number.isInteger(days) || days < 1) throw new GamelayerError('cli.lifecycle-policy', `--expire-days ${flags.expireDays}: expected a whole number of days, at least 1`);
        const policy = lifecyclePolicy(days);
        if (flags.lifecyclePolicy === 'apply') {
          if (!api) throw new GamelayerError('cli.lifecycle-policy', `--lifecycle-policy apply: ${ref.registry} is not Amazon ECR`, 'lifecycle policies are an ECR feature; pass --ecr for an ECR behind another host name');
          await putLifecyclePolicy(api, ref.repository, policy);
        }
        if (flags.json) printJson({ repository: `${ref.registry}/${ref.repository}`, applied: flags.lifecyclePolicy === 'apply', policy });
        else process.stdout.write(`${JSON.stringify(policy, null, 2)}\n${flags.lifecyclePolicy === 'apply' ? `applied to ${ref.registry}/${ref.repository}\n` : ''}`);
        return;
      }
      const reporter = commandReporter(!!flags.json);
      const deployed = await deployedDigests(flags.keepDeployed, `${ref.registry}/${ref.repository}`, (line) => reporter.warn(line));
      const result = await pruneRepository({ client: target.client, repo: ref.repository, keep, apply: flags.apply, ecr: api, tags: flags.tag, deployed, idleLineDays, reporter });
      if (flags.json) printJson(result);
      else {
        const verb = result.applied ? 'deleted' : 'would delete';
        const lines = [
          `kept ${count(result.kept.length, 'build')}: ${result.kept.map((b) => (result.keptBecause[b.tag] ? `${b.tag} (${result.keptBecause[b.tag]})` : b.tag)).join(', ') || '-'}`,
          `${verb} ${count(result.removed.length, 'build')}: ${result.removed.map((b) => b.tag).join(', ') || '-'} (${count(result.deleted.length, 'manifest')})`,
        ];
        const finished = result.removed.filter((b) => b.interrupted).map((b) => b.tag);
        if (finished.length) lines.push(`${result.applied ? 'finished' : 'would finish'} removing ${count(finished.length, 'build')} an interrupted prune had begun: ${finished.join(', ')}`);
        if (result.retiredLines.length) lines.push(`${result.applied ? 'retired' : 'would retire'} ${count(result.retiredLines.length, 'idle line')}: ${result.retiredLines.join(', ')} (the next build of each plans on another line's newest build, as a line's first build does; --from chooses another)`);
        if (result.attached.length) lines.push(`${verb} their ${count(result.attached.length, 'attached manifest')} (signatures, SBOMs, referrers indexes)`);
        if (result.untagged.length) lines.push(`${result.applied ? 'untagged' : 'would untag'} ${count(result.untagged.length, 'tag')} whose image ${STILL_NAMED}`);
        // Both lists grow with the builds pruned before (a tree tag left per build): the first 8 named, --json has all.
        const shown = (tags: string[]) => tags.slice(0, 8).join(', ') + (tags.length > 8 ? `, and ${tags.length - 8} more` : '');
        if (result.left.length) lines.push(`left ${count(result.left.length, 'tag')} whose image ${STILL_NAMED} (${shown(result.left)}): this registry cannot remove one tag of several`);
        if (result.unclaimed.length) {
          lines.push(`left ${count(result.unclaimed.length, 'tag')} that no build record here claims (${shown(result.unclaimed)}): their build record is gone, or they are not gamelayer's; prune never deletes those (delete what is unused by hand)`);
        }
        if (result.undated.length) {
          const undated = result.undated.map((b) => `${b.tag} (${b.createdAt ? JSON.stringify(b.createdAt) : 'none'})`);
          lines.push(`ranked oldest ${count(result.undated.length, 'build')} whose record's creation time is not an RFC 3339 date-time: ${shown(undated)}`);
        }
        if (!result.applied && result.deleted.length) lines.push('dry run: pass --apply to delete');
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (flags.exitCode && !result.applied && result.deleted.length + result.untagged.length + result.attached.length > 0) process.exitCode = EXIT.changes;
    });
  addRegistryOptions(cmd, 'existing');
}

/** The most a deployed spec given to --keep-deployed may hold (/dev/zero was read without end). */
const KEEP_DEPLOYED_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Per spec file, the digests of this repository's images it pins (`REPO@sha256:…`, `REPO:TAG@sha256:…`). A file that
 * names none is an error: it would keep nothing (another repository's spec, or a spec of tags).
 */
async function deployedDigests(given: string[], repository: string, warn: (line: string) => void): Promise<string[][]> {
  const { fifoWaitNotice, readFileBounded } = await import('../../util/read-bounded.js');
  const { kustomizePinned } = await import('../../k8s/kustomize-out.js');
  const onWait = (file: string) => warn(fifoWaitNotice('--keep-deployed', file));
  const escaped = repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pinned = new RegExp(`(?<![\\w./-])${escaped}(?::[\\w][\\w.-]*)?@(sha256:[a-f0-9]{64})`, 'g');
  const out: string[][] = [];
  const pinning = new Set<string>();
  for (const { file, folder } of await deployedFiles(given)) {
    const read = await readFileBounded(file, KEEP_DEPLOYED_MAX_BYTES, onWait).catch((e: NodeJS.ErrnoException) => {
      throw new GamelayerError('cli.usage', `--keep-deployed ${file}: cannot read it (${e.code ?? e.message})`, 'name a spec file that exists');
    });
    if (!Buffer.isBuffer(read)) {
      throw new GamelayerError('cli.usage', `--keep-deployed ${file}: more than ${KEEP_DEPLOYED_MAX_BYTES} bytes, more than a spec holds`, 'name the deployed spec files (YAML or JSON)');
    }
    const text = read.toString('utf8');
    const found = [...[...text.matchAll(pinned)].map((m) => m[1]!), ...kustomizePinned(text, repository)];
    // A folder holds other objects too (a Service, a kustomization): only the folder as a whole must pin one.
    if (!found.length && folder !== undefined) continue;
    if (!found.length) {
      throw new GamelayerError('record.no-build', `prune --keep-deployed ${file}: pins no image of ${repository} by digest, so it would keep nothing`, `give the specs deployed from ${repository} (gamelayer k8s / ecs write images as ${repository}@sha256:…)`);
    }
    if (folder !== undefined) pinning.add(folder);
    out.push([...new Set(found)]);
  }
  for (const folder of given) {
    if (!pinning.has(folder) && (await isFolder(folder))) {
      throw new GamelayerError('record.no-build', `prune --keep-deployed ${folder}: no spec in this folder pins an image of ${repository} by digest, so it would keep nothing`, `give the folder gamelayer k8s --out wrote for ${repository}, or its spec files`);
    }
  }
  return out;
}

async function isFolder(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

/**
 * `--keep-deployed` files, a folder standing for its YAML and JSON files (as `kubectl apply -f DIR` reads them): the
 * folder `k8s --out` writes was refused (`cannot read it (EISDIR)`). Each file stays a spec of its own.
 */
async function deployedFiles(given: string[]): Promise<{ file: string; folder?: string }[]> {
  const files: { file: string; folder?: string }[] = [];
  for (const g of given) {
    if (!(await isFolder(g))) {
      files.push({ file: g });
      continue;
    }
    const names = (await readdir(g, { withFileTypes: true })).filter((d) => d.isFile() && /\.(ya?ml|json)$/.test(d.name)).map((d) => d.name).sort();
    files.push(...names.map((n) => ({ file: path.join(g, n), folder: g })));
  }
  return files;
}

/** `--idle-lines DAYS`: a number of days above 0 (decimals allowed). */
function parseIdleDays(value: string): number {
  const days = Number(value);
  if (value.trim() === '' || !Number.isFinite(days) || days <= 0) throw new GamelayerError('cli.keep', `--idle-lines ${value}: expected a number of days above 0`);
  return days;
}

// A removed build's image stays when a tag that stays names it: a kept build's (an unchanged tree image), or one no
// build record claims (a tag put by hand on a build's image). "A kept build still uses" was wrong for the latter.
const STILL_NAMED = 'a kept build or a tag no build claims still names';
