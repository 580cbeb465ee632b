// gamelayer gc: removes old builds and unreferenced blobs from the local store. Dry run unless --apply.
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { gcStore } from '../../inventory/gc.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, parseKeep, printJson } from '../context.js';
import { count } from '../../report/plural.js';

interface GcFlags {
  keep: string;
  tag: string[];
  apply?: boolean;
  exitCode?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('gc')
    .description('shrink the local store: keep the newest builds (and named ones), remove the rest and every blob nothing kept needs; a dry run unless --apply')
    .option('--keep <n>', 'newest builds to keep', '3')
    .option('-t, --tag <tag>', 'also keep this build (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--apply', 'remove; without it, only print what would be removed')
    .option('--exit-code', 'in a dry run, exit 3 when something would be removed')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: GcFlags, cmd: Command) => {
      const keep = parseKeep(flags.keep);
      const config = await commandConfig(cmd);
      const result = await gcStore({ config, keep, tags: flags.tag, apply: flags.apply });
      if (flags.json) printJson(result);
      else {
        const verb = result.applied ? 'removed' : 'would remove';
        const lines = [
          `kept ${count(result.keptBuilds.length, 'build')}: ${result.keptBuilds.join(', ') || '-'}`,
          `${verb} ${count(result.removedBuilds.length, 'build')}: ${result.removedBuilds.join(', ') || '-'} (${count(result.removedTags.length, 'tag')})`,
          `${verb} ${count(result.blobs.length, 'blob')}, ${formatBytes(result.bytesFreed)} freed; ${formatBytes(result.bytesKept)} kept in ${result.store}`,
        ];
        if (result.keptElsewhere.length > 0) lines.push(`kept ${count(result.keptElsewhere.length, 'record')} of builds in other stores: ${result.keptElsewhere.join(', ')}`);
        if (result.orphans.length > 0) {
          const stores = [...new Set(result.orphans.map((o) => o.store))].join(', ');
          lines.push(`${verb} ${count(result.orphans.length, 'record')} of builds whose images are in no store (${stores}: gone, or holding none of them): ${result.orphans.map((o) => o.tag).join(', ')}`);
        }
        if (result.unknownStore.length > 0) lines.push(`kept ${count(result.unknownStore.length, 'record')} of builds not in this store that name no store (written before gamelayer recorded it): ${result.unknownStore.join(', ')}; delete such a record by hand if its store is gone`);
        if (result.cacheFiles > 0) lines.push(`${verb} ${result.cacheFiles} cache files no kept build needs`);
        if (result.layerCacheRows > 0) lines.push(`${verb} ${result.layerCacheRows} layer cache rows of those blobs`);
        if (!result.applied && result.blobs.length + result.removedTags.length + result.orphans.length > 0) lines.push('dry run: pass --apply to remove');
        if (!result.applied) {
          const { liveHolds } = await import('../../oci/store-holds.js');
          const held = await liveHolds(result.store);
          if (held > 0) lines.push(`note: ${held} build(s), push(es) or load(s) are using this store now: what they write is not recorded yet and may be listed above; gc --apply waits for them first`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (flags.exitCode && !result.applied && result.blobs.length + result.removedTags.length + result.orphans.length > 0) process.exitCode = EXIT.changes;
    });
}
