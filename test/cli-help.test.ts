// --help examples on every command and shell completion generated from the command tree, through the real CLI.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const COMMANDS = ['init', 'scan', 'diff', 'build', 'push', 'k8s', 'ecs', 'dockerfile', 'load', 'run-local', 'ls', 'inspect', 'gc', 'prune', 'sbom', 'sign', 'verify', 'completion', 'codebuild', 'codebuild start', 'codebuild watch', 'codebuild stop', 'codebuild buildspec', 'codebuild imagedefinitions'];

describe('--help', () => {
  it.each(COMMANDS)('%s --help shows examples', async (command) => {
    const r = await runCli([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\nExamples:\\n  gamelayer ${command}[ \\n]`));
  });

  it('every command the top level lists has examples (the README says every --help ends with them)', async () => {
    const top = (await runCli(['--help'])).stdout;
    const listed = [...top.slice(top.indexOf('Commands:')).matchAll(/^  ([a-z0-9-]+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(listed).toContain('verify');
    const missing: string[] = [];
    for (const c of listed) if (!/\nExamples:\n {2}gamelayer /.test((await runCli([c, '--help'])).stdout)) missing.push(c);
    expect(missing).toEqual([]);
  });

  it('-t/--tag names a build, --out generated files, --store the OCI layout, in every command', async () => {
    const build = (await runCli(['build', '--help'])).stdout;
    expect(build).toMatch(/^  -t, --tag <tag> +server image tag/m);
    expect(build).toMatch(/^  --store <dir> +OCI image layout directory/m);
    expect(build).not.toMatch(/--out/);
    const push = (await runCli(['push', '--help'])).stdout;
    expect(push).toMatch(/^  --also-tag <tag> +another tag/m);
    expect(push).not.toMatch(/-t, --tag/);
    expect((await runCli(['load', '--help'])).stdout).toMatch(/^  -t, --tag <tag> +build tag in the store/m);
    for (const c of ['dockerfile', 'k8s', 'ecs']) expect((await runCli([c, '--help'])).stdout).toMatch(/--out <dir>/);
  });

  it('the top level lists every command', async () => {
    const r = await runCli(['--help']);
    for (const c of COMMANDS.filter((x) => !x.includes(' '))) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});

describe('gamelayer completion', () => {
  async function complete(line: string): Promise<string[]> {
    const dir = await tempDir();
    const script = path.join(dir, 'gamelayer.bash');
    await writeFile(script, (await runCli(['completion', 'bash'])).stdout);
    const out = execFileSync(
      'bash',
      ['-c', `source ${script}; COMP_WORDS=(${line}); [ "\${LINE: -1}" = " " ] && COMP_WORDS+=(""); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _gamelayer; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...process.env, LINE: line } },
    );
    return out.split('\n').filter(Boolean);
  }

  it('bash: commands, subcommands and options, from the command tree', async () => {
    expect(await complete('gamelayer bu')).toEqual(['build']);
    expect(await complete('gamelayer ')).toEqual(expect.arrayContaining(['init', 'build', 'push', 'ls', 'inspect', 'gc', 'prune', 'codebuild', '--config']));
    expect(await complete('gamelayer build --ta')).toEqual(['--tag']);
    expect(await complete('gamelayer codebuild st')).toEqual(['start', 'stop']);
    expect(await complete('gamelayer codebuild start --wa')).toEqual(['--watch']);
    expect(await complete('gamelayer push --password')).toEqual(['--password-stdin']); // the refused --password is hidden
  });

  // After an option taking a value the script offered every flag (`gamelayer -c <TAB>` never listed the yaml files),
  // and a value before the command (`gamelayer -c game.yaml bu<TAB>`, the buildspec's form) was taken for a command
  // name, so nothing completed after it.
  it('bash: after an option that takes a value, file names (no flags); a value before the command is skipped', async () => {
    expect(await complete('gamelayer -c game.yaml bu')).toEqual(['build']);
    expect(await complete('gamelayer -c game.yaml build --ta')).toEqual(['--tag']);
    for (const line of ['gamelayer -c ', 'gamelayer build --store ', 'gamelayer k8s --out ', 'gamelayer gc -t ']) expect(await complete(line), line).toEqual([]);
    // A flag without a value is followed by flags as before.
    expect(await complete('gamelayer build --json --ta')).toEqual(['--tag']);
  });

  it('zsh: a compdef script over the same tree; an unknown shell is a usage error', async () => {
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    expect(zsh).toMatch(/^#compdef gamelayer\n/);
    expect(zsh).toContain('"gc") words="--apply --config --exit-code --help --json --keep --quiet --tag --version -V -c -q -t"');
    expect(zsh).toContain('"gc") words="--config --keep --tag -c -t"');
    expect(zsh).toContain('_files; return');
    const fish = await runCli(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toBe('error[cli.shell]: completion fish: expected bash or zsh\n');
  });
});
