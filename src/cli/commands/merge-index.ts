// gamelayer index REPO --tag T: the multi-platform indexes and the merged build record from the builds of one
// platform each (`build --platform P --push REPO` on each platform's host).
import type { Command } from 'commander';
import { commandConfig, printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';

interface IndexFlags extends RegistryFlags {
  tag?: string;
  platform?: string[];
  line?: string;
  sign?: string;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('index')
    .description('merge the builds of one platform each (build --platform P --push REPO) into multi-platform indexes and one build record')
    .argument('<repo>', 'host[:port]/repository the platform builds pushed to')
    .option('-t, --tag <tag>', 'the tag the platform builds were given (default: as build: in CodeBuild the first 8 characters of the commit, else build-<number>; elsewhere the config\'s version, else latest)')
    .option('--platform <platform...>', 'the platforms to merge (default: the config\'s platforms)')
    .option('--line <name>', 'line of work whose tag moves to the merged record (default: as build --push)')
    .option('--sign <key>', 'sign the merged indexes (and any platform manifest not signed yet) with this key: a PEM file or awskms:///<key ARN>')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (repo: string, flags: IndexFlags, c: Command) => {
      const config = await commandConfig(c);
      // As build: the key is read (a KMS key asked for its public key, a probe signed) before anything is put.
      const keys = flags.sign ? await import('../../sign/keys.js') : undefined;
      const signer = flags.sign ? await keys!.signerFor(flags.sign) : undefined;
      if (signer) await keys!.proveSigner(signer);
      const { codebuildEnvironment } = await import('../../codebuild/environment.js');
      const tag = flags.tag ?? codebuildEnvironment(process.env)?.defaultTag ?? config.version ?? 'latest';
      const line = flags.line ?? (await (await import('../../pipeline/steps/previous.js')).defaultLine(config.dir)).line;
      // Read once: --password-stdin consumes stdin, so a second read would find no password for the signing.
      const registry = await registryOptions(flags);
      // One target for the run (the merge, the preflight and the signing): one token, and what its client learnt of
      // the registry (no referrers API: referrers.ts) holds for all of them.
      const { parseReference } = await import('../../registry/reference.js');
      const ref = parseReference(repo);
      const target = await (await import('../../registry/connect.js')).pushTargetFor(ref, registry);
      // As build --sign: a repository whose signature tags are immutable is refused before any index is put.
      if (signer) (await import('../../supply/sign-preflight.js')).refuseImmutableSignatureTags(target, ref.repository, `${ref.registry}/${ref.repository}`);
      const { mergePlatformBuilds } = await import('../../registry/merge-index.js');
      const result = await mergePlatformBuilds({
        ...registry,
        repository: repo,
        tag,
        platforms: flags.platform ?? config.platforms,
        line,
        game: config.game,
        stateDir: config.stateDir,
        store: config.store,
        target,
      });
      // The platform builds signed their own manifests (and SBOMs, attached to them); the indexes are new here.
      const signatures = signer ? await (await import('../../supply/sign-images.js')).signImages({ ...registry, refs: result.indexes.map((i) => `${repo}:${i.tag}`), signer, target }) : [];
      if (flags.json) return printJson(signer ? { ...result, signatures } : result);
      const made = signatures.flatMap((s) => s.signed);
      const lines = [
        `merged ${result.sources.map((s) => `${s.platform} (${s.tag})`).join(', ')} in ${result.repository}:`,
        ...result.indexes.map((i) => `  ${i.tag} = ${i.digest}${i.upToDate ? ' (already there)' : ''}`),
        `build record ${result.record.digest} (tag ${result.record.tags.join(', ') || 'kept'}${result.record.lineTag ? `, ${result.record.lineTag}` : ''})`,
        ...(signer ? [`signatures: ${made.filter((s) => !s.upToDate).length} new, ${made.filter((s) => s.upToDate).length} already there`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  addRegistryOptions(cmd, 'existing');
}
