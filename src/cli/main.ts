// CLI entry: parses arguments, calls the library, prints. No logic of its own (DESIGN.md "Library first").
import { Command, CommanderError } from 'commander';
import { EXIT, exitStatusOf, isGamelayerError, type ErrorCode } from '../errors.js';
import { closeReporters } from '../report/reporter.js';
import { commands } from './commands/index.js';
import { registerCompletion } from './completion.js';
import { addExamples } from './examples.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('gamelayer')
    .description('Ship large game servers as containers: only what changed is built, pushed and pulled.')
    .option('-c, --config <file>', 'game config file', 'gamelayer.yaml')
    .showHelpAfterError()
    // Commander's own usage messages get the code too; subcommands inherit this (registered below).
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'error[cli.usage]: ')) })
    .exitOverride();
  for (const register of commands) register(program);
  registerCompletion(program);
  addExamples(program);
  const json = wantsJson(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (e) {
    closeReporters();
    return reportError(e, json);
  } finally {
    closeReporters();
  }
}

/** `--json` anywhere before a `--`: errors then also go to stdout as one JSON object. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Prints an error for people (`error[code]: message`, `hint: …` on stderr) and, under --json, for scripts
 * (`{"error": {"code", "message", "hint"}}` on stdout); returns the exit status (docs/errors.md "Exit status").
 */
function reportError(e: unknown, json: boolean): number {
  if (e instanceof CommanderError) {
    // Commander already printed usage errors (through outputError above); help and version exit 0.
    if (e.exitCode === 0) return EXIT.ok;
    if (json) printErrorJson('cli.usage', e.message.replace(/^error: /, ''), 'see --help');
    return EXIT.usage;
  }
  if (isGamelayerError(e)) {
    process.stderr.write(`error[${e.code}]: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (json) printErrorJson(e.code, e.message, e.hint);
    return exitStatusOf(e.code);
  }
  const err = e as Error;
  const hint = 'this looks like a bug in gamelayer; rerun with GAMELAYER_DEBUG=1 and report the stack';
  process.stderr.write(`error[internal]: ${err?.message ?? String(e)}\n`);
  if (process.env.GAMELAYER_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write(`hint: ${hint}\n`);
  if (json) printErrorJson('internal', err?.message ?? String(e), hint);
  return EXIT.failure;
}

function printErrorJson(code: ErrorCode | 'internal', message: string, hint: string | undefined): void {
  process.stdout.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
}

// Run when executed directly (bin/gamelayer.js or tsx src/cli/main.ts), not when imported by tests.
const entry = process.argv[1] ?? '';
if (entry.endsWith('gamelayer.js') || entry.endsWith('main.ts') || entry.endsWith('gamelayer')) {
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
