// CLI entry: parses arguments, calls the library, prints. No logic of its own (DESIGN.md "Library first").
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isGamelayerError } from '../errors.js';
import { redactReference } from '../registry/reference.js';
import { writeDeniedError } from '../util/fs-access.js';
import { commands } from './commands/index.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('gamelayer')
    .description('Ship large game servers as containers: only what changed is built, pushed and pulled.')
    .version(packageVersion(), '-V, --version', 'print the version of gamelayer')
    .option('-c, --config <file>', 'game config file', 'gamelayer.yaml')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    return reportError(e);
  }
}

/** The version in package.json, two folders up from both src/cli/ and dist/cli/. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function reportError(thrown: unknown): number {
  const e = writeDeniedError(thrown);
  if (e instanceof CommanderError) {
    // Commander already printed usage errors; help and version exit 0.
    return e.exitCode === 0 ? 0 : 2;
  }
  if (isGamelayerError(e)) {
    // A last guard: whatever message echoes a reference the user typed, its user-info is never printed.
    process.stderr.write(`error: ${redactReference(e.message)}\n`);
    if (e.hint) process.stderr.write(`hint: ${redactReference(e.hint)}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`error: ${redactReference(err?.message ?? String(e))}\n`);
  if (process.env.GAMELAYER_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write('hint: this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack\n');
  return 1;
}

// Run when this file is the program (`tsx src/cli/main.ts`, `node dist/cli/main.js`); bin/gamelayer.js and
// tests import it and call main() themselves.
if (isProgram()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

function isProgram(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}
