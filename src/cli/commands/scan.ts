import type { Command } from 'commander';
import { formatBytes } from '../../report/reporter.js';
import { scanGameChunked } from '../../scan/chunk-tree.js';
import { saveScanRecord } from '../../state/records.js';
import { deniedWhere, isWriteDenied } from '../../util/fs-access.js';
import { manifestLabel } from '../../diff/diff.js';
import { commandConfig, commandReporter, printJson } from '../context.js';
import { table } from '../table.js';

export function register(program: Command): void {
  program
    .command('scan')
    .description('hash the four trees (stat cache makes unchanged files free) and record the result')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = await commandConfig(cmd);
      const reporter = commandReporter(!!opts.json);
      // Its manifests only go to the scan record and the summary: a large tree keeps them packed, on a first scan and
      // a rescan (issue 17).
      const result = await scanGameChunked(config, { reporter, packEntries: true, packWarm: true });
      let record: string | undefined;
      try {
        record = await saveScanRecord(config.stateDir, config.game, result.trees.map((t) => t.manifest));
      } catch (e) {
        // A read-only state folder: the scan is still shown; only the baseline for a later diff is not kept.
        if (!isWriteDenied(e)) throw e;
        reporter.warn(`scan record not saved: ${deniedWhere(e)} is not writable; diff keeps comparing with the last saved build or scan`);
      }
      const rows = result.trees.map((t) => ({
        tree: manifestLabel(t.manifest),
        files: t.stats.files,
        bytes: t.stats.bytes,
        digest: t.manifest.digest,
        ms: t.stats.ms,
        cacheHits: t.stats.cacheHits,
        hashedFiles: t.stats.hashedFiles,
        hashedBytes: t.stats.hashedBytes,
        cacheRejected: t.stats.cacheRejected,
      }));
      if (opts.json) {
        printJson({ game: config.game, record, trees: rows });
        return;
      }
      process.stdout.write(
        `${table(
          ['tree', 'files', 'bytes', 'digest', 'time', 'cache hits'],
          rows.map((r) => [
            r.tree,
            String(r.files),
            formatBytes(r.bytes),
            r.digest.slice(0, 19),
            `${(r.ms / 1000).toFixed(2)}s`,
            `${r.cacheHits}/${r.files}`,
          ]),
          [1, 2, 4, 5],
        )}\n`,
      );
    });
}
