// gamelayer ls [REPO]: the local store's tags (with their builds), or a registry repository's tags.
import type { Command } from 'commander';
import { isStoreBuild, listLocal } from '../../inventory/local.js';
import type { RemoteTagRow } from '../../inventory/remote.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';
import { fitTable } from '../table.js';
import { count } from '../../report/plural.js';
import { printable } from '../../report/printable.js';
import { utcText } from '../../util/instant.js';

/** The KIND column of a registry tag. */
function kindText(t: RemoteTagRow): string {
  if (t.kind === 'record') return `record of ${t.recordOf ?? '?'}${t.line !== undefined ? ` (line ${t.line})` : ''}${t.revision !== undefined ? `, commit ${printable(t.revision.slice(0, 12))}` : ''}`;
  if (t.kind === 'note') return `prune's note of ${t.leftOf ?? '?'}'s left tags`;
  return t.kind;
}

interface LsFlags extends RegistryFlags {
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('ls')
    .description('list images and tags: of the local store (with sizes, dates and builds), or of a registry repository')
    .argument('[repo]', 'a registry repository (host[:port]/repo) instead of the local store')
    .option('--json', 'print the list as JSON on stdout')
    .action(async (repo: string | undefined, flags: LsFlags, c: Command) => {
      if (repo) {
        const { parseReference } = await import('../../registry/reference.js');
        const { pushTargetFor } = await import('../../registry/push.js');
        const { listRemote } = await import('../../inventory/remote.js');
        const ref = parseReference(repo);
        const { client } = await pushTargetFor(ref, await registryOptions(flags));
        const tags = await listRemote(client, ref.repository);
        if (flags.json) return printJson({ repository: `${ref.registry}/${ref.repository}`, tags });
        process.stdout.write(
          `${fitTable(
            ['TAG', 'KIND', 'DIGEST', 'SIZE'],
            tags.map((t) => [t.tag, kindText(t), t.digest.slice(7, 19), formatBytes(t.size)]),
            [3],
            { shrink: [0, 1] },
          )}\n${count(tags.length, 'tag')}, ${count(tags.filter((t) => t.kind === 'record' && t.line === undefined).length, 'build record')}\n`,
        );
        return;
      }
      const config = await commandConfig(c);
      const { store, tags, builds: recorded } = await listLocal(config);
      // The records folder is the state folder's, which configs with other stores may share: a build counts here
      // when its images are in this store (a tag of it listed as its own), not for its record alone.
      const builds = recorded.filter((b) => isStoreBuild(config, b) && tags.some((t) => t.build === b.tag));
      if (flags.json) return printJson({ store, tags, builds: builds.map((b) => ({ tag: b.tag, file: b.file, createdAt: b.record.createdAt, tags: b.record.tags, ...(b.record.revision !== undefined ? { revision: b.record.revision } : {}) })) });
      if (!tags.length) {
        process.stdout.write(`${store}: no images yet (gamelayer build makes some)\n`);
        return;
      }
      process.stdout.write(
        `${fitTable(
          ['TAG', 'IMAGE', 'DIGEST', 'SIZE', 'CREATED', 'RECORD'],
          // index.json may have been written by another tool, or by hand: a tag is shown quoted when it holds a
          // control character (an escape sequence, a newline), never sent to the terminal as it is.
          tags.map((t) => [printable(t.tag), t.image, t.digest.slice(7, 19), formatBytes(t.size), t.createdAt ? utcText(t.createdAt) : '-', t.record ? (t.revision !== undefined ? `yes (${printable(t.revision.slice(0, 12))})` : 'yes') : '']),
          [3],
          { shrink: 0 },
        )}\n${count(tags.length, 'tag')}, ${count(builds.length, 'build')} in ${store}\n`,
      );
    });
  addRegistryOptions(cmd, 'existing');
}
