// Every CLI command, in the order --help lists them; one file per command. A command's file (and what it imports)
// is loaded only when it is needed: a run of one command loads that command alone, --help and completion load all
// (start-up time of a short command such as a no-op build: bench/README.md "Peers").
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

interface CommandModule {
  register: RegisterCommand;
}

/** Each command's name (as typed after `gamelayer`) and its module. */
export const COMMAND_MODULES: ReadonlyArray<readonly [name: string, load: () => Promise<CommandModule>]> = [
  ['init', () => import('./init.js')],
  ['scan', () => import('./scan.js')],
  ['diff', () => import('./diff.js')],
  ['build', () => import('./build.js')],
  ['push', () => import('./push.js')],
  ['k8s', () => import('./k8s.js')],
  ['ecs', () => import('./ecs.js')],
  ['dockerfile', () => import('./dockerfile.js')],
  ['load', () => import('./load.js')],
  ['run-local', () => import('./run-local.js')],
  ['codebuild', () => import('./codebuild.js')],
  ['ls', () => import('./ls.js')],
  ['inspect', () => import('./inspect.js')],
  ['gc', () => import('./gc.js')],
  ['prune', () => import('./prune.js')],
  ['index', () => import('./merge-index.js')],
  ['sbom', () => import('./sbom.js')],
  ['sign', () => import('./sign.js')],
  ['verify', () => import('./verify.js')],
];

/** The registrations of the named commands (unknown names are skipped), or of every command; in --help order. */
export async function loadCommands(names?: readonly string[]): Promise<RegisterCommand[]> {
  const wanted = names ? COMMAND_MODULES.filter(([name]) => names.includes(name)) : COMMAND_MODULES;
  // Before any command's schemas are built (a bare --version loads no command, and no zod).
  if (wanted.length) await import('../zod-jitless.js');
  return (await Promise.all(wanted.map(([, load]) => load()))).map((m) => m.register);
}
