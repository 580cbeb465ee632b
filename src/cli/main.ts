// CLI entry: parses arguments, calls the library, prints. No logic of its own (DESIGN.md "Library first").
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, Help, type Option } from 'commander';
import { EXIT, GamelayerError } from '../errors.js';
import { closeReporters } from '../report/reporter.js';
import { gamelayerVersion } from '../version.js';
import { COMMAND_MODULES, loadCommands } from './commands/index.js';
import { registerCompletion } from './completion.js';
import { exitQuietlyOnClosedStdout } from './closed-stdout.js';
import { setQuiet } from './quiet.js';
import { addExamples } from './examples.js';
import { reportError } from './report-error.js';
import { guardUnsettled, UNSETTLED_MESSAGE } from './unsettled.js';

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedStdout(wantsJson(argv));
  const program = new Command('gamelayer')
    .description('Ship large game servers as containers: only what changed is built, pushed and pulled.')
    .version(gamelayerVersion(), '-V, --version', 'print the version of gamelayer')
    .option('-c, --config <file>', 'game config file; - reads it from stdin (relative paths in it start at the current folder)', 'gamelayer.yaml')
    .option('-q, --quiet', 'no progress and no notes on stderr, only warnings and errors (the result still goes to stdout)')
    .showHelpAfterError()
    // Commander's own usage messages get the code too; subcommands inherit this (registered below).
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'error[cli.usage]: ')) })
    // Help shows what a user can act on: not a bare `--push`'s internal preset (`preset: ""`) nor the empty
    // list a repeatable option starts from (`default: []`). Subcommands inherit this.
    .configureHelp({ optionDescription: helpDescription })
    .exitOverride()
    // `--out "$DIR"` with DIR unset: an empty --out printed to stdout (or wrote into the current folder) and exited 0;
    // an empty --sign pushed unsigned images and an empty `sbom --key` took an unsigned SBOM, as if not given. An empty
    // --line (build, push, index, diff) failed only once a record was pushed, as record.line with exit 1.
    .hook('preAction', (_program, action) => {
      setQuiet(action.optsWithGlobals().quiet === true);
      const opts = action.opts();
      for (const name of ['out', 'sign', 'key', 'line']) {
        if (opts[name] === '') throw new GamelayerError('cli.usage', `--${name}: empty`, `give the --${name} value (is a shell variable unset?), or leave --${name} out`);
      }
      // `-c -` takes stdin: a password or a manifest read from it too got what the config left, nothing.
      if (action.optsWithGlobals().config === '-') {
        const other = opts.passwordStdin ? '--password-stdin' : (opts.fill as string[] | undefined)?.includes('-') ? '--fill -' : undefined;
        if (other) throw new GamelayerError('cli.usage', `-c - and ${other} both read stdin`, 'write the config to a file and pass it with -c FILE');
      }
      // `--out -` means stdout, as a script writes it: wrote a file or made a folder named "-" in the current folder.
      if (opts.out === '-') {
        if (!PRINTS_WITHOUT_OUT.has(action.name())) {
          throw new GamelayerError('cli.usage', `--out -: ${action.name()} writes several files into a folder, not to stdout`, 'name a folder, or ./- for a folder named "-"');
        }
        action.setOptionValue('out', undefined);
      }
    });
  for (const register of await loadCommands(commandsNeeded(argv))) register(program);
  registerCompletion(program);
  addExamples(program);
  const json = wantsJson(argv);
  const release = guardUnsettled(() => {
    closeReporters();
    process.exitCode = reportError(new Error(UNSETTLED_MESSAGE), json);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (e) {
    closeReporters();
    return reportError(e, json);
  } finally {
    release();
    closeReporters();
  }
}

/** The commands that print to stdout what `--out` would write: `--out -` is the same as no --out for them. */
const PRINTS_WITHOUT_OUT = new Set(['k8s', 'ecs', 'buildspec', 'imagedefinitions', 'sbom']);

/**
 * Which commands to register: only the one typed (its file alone is loaded, start-up time), none for a bare
 * `--version`, and all for anything else (--help, `help`, completion, an unknown or mistyped command, so commander
 * lists and suggests them as before).
 */
export function commandsNeeded(argv: string[]): string[] | undefined {
  const end = argv.indexOf('--');
  const words = end < 0 ? argv : argv.slice(0, end);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // The program's only option with a value: `-c FILE` / `--config FILE` (the `--config=FILE` form is one word).
    if (w === '-c' || w === '--config') i++;
    else if (!w.startsWith('-')) return COMMAND_MODULES.some(([name]) => name === w) ? [w] : undefined;
  }
  return words.some((w) => w === '-V' || w === '--version') && !words.some((w) => w === '-h' || w === '--help') ? [] : undefined;
}

/** `--json` anywhere before a `--`: errors then also go to stdout as one JSON object. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
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

/**
 * Commander's option description without the parts that are the code's bookkeeping rather than the user's, and a
 * number kept as a string default (`--keep 3`) shown as the number the other options show (`default: 3`).
 */
function helpDescription(option: Option): string {
  const value: unknown = option.defaultValue;
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, {
    presetArg: undefined,
    defaultValue: Array.isArray(value) && value.length === 0 ? undefined : value,
    defaultValueDescription: option.defaultValueDescription ?? (typeof value === 'string' && /^\d+$/.test(value) ? value : undefined),
  });
  return new Help().optionDescription(shown);
}
