// gamelayer init: a commented gamelayer.yaml for an existing dedicated-server build folder.
import type { Command } from 'commander';
import { initGame } from '../../init/write.js';
import { printJson } from '../context.js';

interface InitFlags {
  force?: boolean;
  game?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('write a commented gamelayer.yaml for a dedicated-server build folder (Unreal LinuxServer/, Lumberyard/O3DE, Unity)')
    .argument('[dir]', 'the build folder; the yaml is written into it', '.')
    .option('--force', 'replace an existing gamelayer.yaml')
    .option('--game <name>', 'the game name (default: from the project or folder name)')
    .option('--json', 'print the proposal (layout, trees, notes) as JSON on stdout')
    .action(async (dir: string, flags: InitFlags) => {
      const { file, proposal } = await initGame({ dir, force: flags.force, game: flags.game });
      if (flags.json) {
        printJson({ file, ...proposal });
        return;
      }
      const out = [`wrote ${file}`, `layout: ${proposal.layout} (${proposal.evidence})`];
      for (const [tree, t] of Object.entries(proposal.trees)) out.push(`  ${tree.padEnd(12)} ${t.source}${t.mount ? ` → ${t.mount}` : ''}`);
      out.push(`start: ${proposal.start.join(' ')}`);
      for (const n of proposal.notes) out.push(`note: ${n}`);
      if (proposal.emptyDirs.length) out.push(`created empty folder ${proposal.emptyDirs.join(', ')} for trees this build has nothing for`);
      out.push('next: gamelayer scan, then gamelayer build');
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
