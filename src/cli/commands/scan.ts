import type { Command } from 'commander';
import { formatBytes } from '../../report/reporter.js';
import { scanGame } from '../../scan/scan.js';
import { saveScanRecord } from '../../state/records.js';
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
      const result = await scanGame(config, { reporter: commandReporter(!!opts.json) });
      const record = await saveScanRecord(config.stateDir, config.game, result.trees.map((t) => t.manifest));
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
