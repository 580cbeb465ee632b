import type { Command } from 'commander';
import { diffManifests, hasChanges } from '../../diff/diff.js';
import { lastRecordedSide, sideFromArg, workingTrees, type DiffSide } from '../../diff/states.js';
import { commandConfig, commandReporter, printJson } from '../context.js';
import { diffDetails, diffTable } from './diff-format.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description(
      'show what changed: with no argument, the working trees against the last build (or scan); ' +
        'with A, A against the working trees; with A B, between two records or two directories',
    )
    .argument('[a]', 'a record file (.gamelayer/records/*.json) or a directory')
    .argument('[b]', 'a record file or a directory')
    .option('--json', 'print every change as JSON on stdout')
    .option('--limit <n>', 'changed paths listed per tree', '20')
    .option('--exit-code', 'exit 1 when anything changed (like git diff --exit-code)')
    .action(async (a: string | undefined, b: string | undefined, opts: { json?: boolean; limit: string; exitCode?: boolean }, cmd: Command) => {
      const reporter = commandReporter(!!opts.json);
      let before: DiffSide;
      let after: DiffSide;
      if (a && b) {
        before = await sideFromArg(a, reporter);
        after = await sideFromArg(b, reporter);
      } else {
        const config = await commandConfig(cmd);
        before = a ? await sideFromArg(a, reporter) : await lastRecordedSide(config);
        after = await workingTrees(config, reporter);
      }
      const diffs = diffManifests(before.manifests, after.manifests);
      const changed = diffs.some(hasChanges);
      if (opts.json) {
        printJson({ before: before.name, after: after.name, changed, trees: diffs });
      } else {
        process.stdout.write(`${before.name} → ${after.name}\n${diffTable(diffs)}\n`);
        const details = diffDetails(diffs, Number(opts.limit) || 20);
        process.stdout.write(details ? `\n${details}\n` : '\nno changes\n');
      }
      if (opts.exitCode && changed) process.exitCode = 1;
    });
}
