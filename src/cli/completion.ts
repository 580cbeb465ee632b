// `gamelayer completion bash|zsh`: shell completion scripts generated from the command tree itself, so a new
// command or option completes without anyone editing a script.
import type { Command } from 'commander';
import { GamelayerError } from '../errors.js';

interface Node {
  path: string;
  subcommands: string[];
  options: string[];
  /** Options that take a value (`-c <file>`, `--out <dir>`): after one, a file or value is completed, not a flag. */
  valued: string[];
}

type Opt = Command['options'][number];
const names = (o: Opt) => [o.long, o.short].filter((x): x is string => Boolean(x));
const takesValue = (o: Opt) => o.required || o.optional;

function nodes(cmd: Command, prefix: string, globals: string[]): Node[] {
  const shown = cmd.options.filter((o) => !o.hidden);
  const options = [...globals, ...shown.flatMap(names), '--help'];
  const here: Node = { path: prefix, subcommands: cmd.commands.map((c) => c.name()), options: [...new Set(options)].sort(), valued: shown.filter(takesValue).flatMap(names).sort() };
  return [here, ...cmd.commands.flatMap((c) => nodes(c, prefix ? `${prefix} ${c.name()}` : c.name(), globals))];
}

export function completionScript(program: Command, shell: string): string {
  const globals = program.options.flatMap(names);
  const valuedGlobals = program.options.filter(takesValue).flatMap(names);
  const all = nodes(program, '', []).map((n) =>
    n.path ? { ...n, options: [...new Set([...n.options, ...globals])].sort(), valued: [...new Set([...n.valued, ...valuedGlobals])].sort() } : n,
  );
  const cases = all
    .map((n) => `    ${JSON.stringify(n.path)}) words=${JSON.stringify([...n.subcommands, ...n.options].join(' '))} ;;`)
    .join('\n');
  const valuedCases = all.map((n) => `    ${JSON.stringify(n.path)}) words=${JSON.stringify(n.valued.join(' '))} ;;`).join('\n');
  const body = `# the words after "gamelayer" that name (sub)commands, joined by spaces
_gamelayer_words() {
  local path="" w
  for w in "$@"; do
    # Only a (sub)command extends the path: a value (-c game.yaml) is skipped, not taken for one.
    case "$w" in -*) ;; *) if _gamelayer_is_cmd "\${path:+$path }$w"; then path="\${path:+$path }$w"; fi ;; esac
  done
  printf '%s' "$path"
}
_gamelayer_is_cmd() { _gamelayer_list "$1" >/dev/null && [ "$(_gamelayer_list "$1")" != "__none__" ]; }
_gamelayer_list() {
  local words="__none__"
  case "$1" in
${cases}
  esac
  printf '%s' "$words"
}
# the options of a (sub)command that take a value: after one, files (or the value) rather than flags
_gamelayer_valued() {
  local words=""
  case "$1" in
${valuedCases}
  esac
  printf '%s' "$words"
}`;
  if (shell === 'bash') {
    return `# bash completion for gamelayer (gamelayer completion bash > /etc/bash_completion.d/gamelayer)
${body}
_gamelayer() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local path; path="$(_gamelayer_words "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  local prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # After an option that takes a value (-c, --out, --store, --kind …): nothing here, so bash completes file names.
  case " $(_gamelayer_valued "$path") " in *" $prev "*) [ "$COMP_CWORD" -gt 1 ] && { COMPREPLY=(); return; } ;; esac
  local words; words="$(_gamelayer_list "$path")"
  [ "$words" = "__none__" ] && words=""
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  case "$cur" in -*|"") ;; *) [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") ) ;; esac
}
complete -o default -F _gamelayer gamelayer
`;
  }
  if (shell === 'zsh') {
    return `#compdef gamelayer
# zsh completion for gamelayer (gamelayer completion zsh > "\${fpath[1]}/_gamelayer")
${body}
_gamelayer() {
  local path; path="$(_gamelayer_words "\${(@)words[2,CURRENT-1]}")"
  if (( CURRENT > 2 )) && [[ " $(_gamelayer_valued "$path") " == *" \${words[CURRENT-1]} "* ]]; then _files; return; fi
  local list; list="$(_gamelayer_list "$path")"
  [ "$list" = "__none__" ] && list=""
  local -a choices; choices=(\${=list})
  _describe -t commands 'gamelayer' choices || _files
}
compdef _gamelayer gamelayer
`;
  }
  throw new GamelayerError('cli.shell', `completion ${shell}: expected bash or zsh`);
}

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
