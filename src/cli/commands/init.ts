// gamelayer init: a commented gamelayer.yaml for an existing dedicated-server build folder.
import type { Command } from 'commander';
import type { ChunkChoice } from '../../init/chunk-choice.js';
import { initGame } from '../../init/write.js';
import { printable } from '../../report/printable.js';
import { formatBytes } from '../../report/reporter.js';
import { printJson } from '../context.js';

interface InitFlags {
  force?: boolean;
  game?: string;
  json?: boolean;
  wholeFiles?: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('write a commented gamelayer.yaml for a dedicated-server build folder (Unreal LinuxServer/, Lumberyard/O3DE, Unity)')
    .argument('[dir]', 'the build folder; the yaml is written into it', '.')
    .option('--force', 'replace an existing gamelayer.yaml')
    .option('--game <name>', 'the game name (default: from the project or folder name)')
    .option('--whole-files', 'keep app-media whole files even when it holds files of 64 MiB or more (chunked by default: docs/chunks.md)')
    .option('--json', 'print the proposal (layout, trees, notes) as JSON on stdout')
    .action(async (dir: string, flags: InitFlags) => {
      const { file, proposal } = await initGame({ dir, force: flags.force, game: flags.game, wholeFiles: flags.wholeFiles });
      if (flags.json) {
        printJson({ file, ...proposal });
        return;
      }
      const out = [`wrote ${file}`, `layout: ${proposal.layout} (${proposal.evidence})`];
      for (const [tree, t] of Object.entries(proposal.trees)) out.push(`  ${tree.padEnd(12)} ${t.source}${t.mount ? ` → ${t.mount}` : ''}`);
      if (proposal.chunks) out.push(chunksSummary(proposal.chunks));
      out.push(`start: ${proposal.start.join(' ')}`);
      for (const n of proposal.notes) out.push(`note: ${n}`);
      if (proposal.emptyDirs.length) out.push(`created empty folder ${proposal.emptyDirs.join(', ')} for trees this build has nothing for`);
      out.push('next: gamelayer scan, then gamelayer build');
      process.stdout.write(`${out.join('\n')}\n`);
    });
}

/** Which way app-media went, and why: the user learns here that a chunked build deploys through the init copy. */
function chunksSummary(c: ChunkChoice): string {
  const big = `${printable(c.file)} is ${formatBytes(c.bytes)} (≥ ${formatBytes(c.minFileSize)})`;
  if (c.reserved) {
    return (
      `chunks: none, ${c.tree} is whole files, though ${big}: its source holds ${printable(c.reserved)}, a path a chunked tree reserves (a build of chunks: {} refuses it, chunks.reserved-path)\n` +
      `  rename or remove it, then init --force to chunk ${c.tree} (docs/chunks.md)`
    );
  }
  if (!c.chunked) return `chunks: none, ${c.tree} is whole files (--whole-files), though ${big}: a partial rewrite of a pak sends and unpacks it whole again`;
  return (
    `chunks: ${c.tree} is chunked (chunks: {}), as ${big}: a partial rewrite of a pak costs the bytes written, and nodes unpack the day's change\n` +
    `  deploy with --volumes init, which assembles the files (the server image alone won't run the paks); init --whole-files for whole files`
  );
}
