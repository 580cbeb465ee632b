// The docs a user reads against the CLI they run: every flag a `gamelayer <command> …` of README.md or docs/*.md
// shows is one that command's --help lists, every flag --help lists is documented in a section that names its
// command, the shared registry options are listed for every command that takes them, and --help states defaults
// one way, with the values the code uses.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { codebuildEnvironment } from '../src/codebuild/environment.js';
import { DEFAULT_ECS_OPTIONS } from '../src/ecs/task-definition.js';
import { DEFAULT_K8S_OPTIONS } from '../src/k8s/options.js';
import { runCli } from './support/cli-process.js';

/** Flags the README names as kept for old scripts, hidden from --help. */
const HIDDEN = new Set(['build --out']);
const GiB = 1024 ** 3;

const flat = (text: string) => text.replace(/\s+/g, ' ');
/** The long flags of a help text's Options: section. */
function flagsOf(help: string): Set<string> {
  const options = help.slice(help.indexOf('\nOptions:'), help.search(/\n(Commands|Examples):/) >>> 0);
  return new Set([...options.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!));
}
/** One option's description in a help text, whitespace flattened. */
function described(help: string, flag: string): string {
  const m = new RegExp(`^ {2}(?:-\\w, )?${flag} [\\s\\S]*?(?=\\n {2}-|\\n\\n)`, 'm').exec(help);
  return flat(m?.[0] ?? '');
}

let helps: Map<string, string>;
let docs: { file: string; text: string }[];

describe('docs and --help', () => {
  beforeAll(async () => {
    const top = (await runCli(['--help'])).stdout;
    const codebuild = (await runCli(['codebuild', '--help'])).stdout;
    const names = (text: string) => [...text.slice(text.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    const commands = [...names(top), ...names(codebuild).map((c) => `codebuild ${c}`)];
    helps = new Map([['', top], ...(await Promise.all(commands.map(async (c) => [c, (await runCli([...c.split(' '), '--help'])).stdout] as const)))]);
    const files = ['README.md', ...(await readdir('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    // A command broken over lines with `\` is read as one line.
    docs = await Promise.all(files.map(async (file) => ({ file, text: (await readFile(file, 'utf8')).replace(/\\\n\s*/g, ' ') })));
  }, 120_000);

  it('finds the commands (codebuild subcommands included)', () => {
    expect([...helps.keys()]).toEqual(expect.arrayContaining(['build', 'k8s', 'ecs', 'index', 'verify', 'codebuild start', 'codebuild imagedefinitions']));
  });

  it('every flag a documented command line shows is one its --help lists', () => {
    const global = flagsOf(helps.get('')!);
    const wrong: string[] = [];
    for (const { file, text } of docs) {
      // Code spans and code-block lines: `gamelayer [-c F] <command> …`, or a span `<command> --flag …` /
      // `<command> REF [--flag …]` (not a message pattern such as `build <id> is still …`).
      const candidates = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).concat(text.split('\n'));
      for (const line of candidates) {
        for (const m of line.matchAll(/(?:^(?=[a-z-]+(?: [a-z]+)? (?:\[?--|[A-Z]+\b))|gamelayer )(?:(?:-c|--config) \S+ )?(codebuild [a-z]+|[a-z][a-z-]*)((?: [^`|;&)]*)?)/g)) {
          const command = helps.has(m[1]!) ? m[1]! : m[1]!.split(' ')[0]!;
          if (!helps.has(command) || command === '' || (command === 'codebuild' && m[1] !== 'codebuild')) continue;
          const args = (helps.has(m[1]!) ? m[2]! : m[1]!.slice(command.length) + m[2]!).split(' -- ')[0]!;
          for (const f of args.matchAll(/(?:^|[\s[(])(--[a-z0-9-]+)/g)) {
            if (!flagsOf(helps.get(command)!).has(f[1]!) && !global.has(f[1]!) && !HIDDEN.has(`${command} ${f[1]}`)) wrong.push(`${file}: ${command} ${f[1]} (${line.trim().slice(0, 80)})`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('every flag --help lists is documented in a section that names the command', () => {
    const registry = flagsOf(helps.get('push')!);
    const sections = docs.flatMap(({ text }) => text.split(/\n(?=## )/));
    const missing: string[] = [];
    for (const [command, help] of helps) {
      if (!command) continue;
      const word = new RegExp(`\\b${command.split(' ').pop()}\\b`);
      for (const flag of flagsOf(help)) {
        // The registry options are one list (README, "Registry options"): checked below.
        if (flag === '--help' || (registry.has(flag) && /--insecure/.test(help))) continue;
        const named = new RegExp(`${flag}(?![a-z0-9-])`);
        if (!sections.some((s) => named.test(s) && word.test(s))) missing.push(`${command} ${flag}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("the README's registry options name every command that takes them, and every one of them", () => {
    const readme = docs.find((d) => d.file === 'README.md')!.text;
    const paragraph = /^Registry options \(([^)]*)\):[\s\S]*?\n\n/m.exec(readme);
    expect(paragraph).not.toBeNull();
    const listed = new Set([...paragraph![1]!.matchAll(/`([a-z0-9-]+)/g)].map((m) => m[1]!));
    const taking = [...helps].filter(([c, h]) => c && /^ {2}--insecure /m.test(h)).map(([c]) => c);
    expect(taking).toEqual(expect.arrayContaining(['push', 'build', 'ls', 'verify']));
    expect(taking.filter((c) => !listed.has(c))).toEqual([]);
    const shared = new Set(taking.flatMap((c) => [...flagsOf(helps.get(c)!)].filter((f) => taking.every((t) => t === 'build' || t === 'push' || flagsOf(helps.get(t)!).has(f)))));
    expect(shared).toContain('--endpoint');
    expect([...shared].filter((f) => f !== '--help' && !new RegExp(`\`[^\`]*${f}(?![a-z0-9-])`).test(readme))).toEqual([]);
  });

  it("the README's \"Flags mean one thing everywhere\" names every command that has -t, --tag and --out", () => {
    const readme = flat(docs.find((d) => d.file === 'README.md')!.text);
    const sentence = readme.slice(readme.indexOf('Flags mean one thing everywhere'));
    const listed = (flag: string) => new Set([...(new RegExp(`${flag}\` [^(]*\(([^)]*)\)`).exec(sentence)?.[1] ?? '').matchAll(/`([a-z0-9-]+)/g)].map((m) => m[1]!));
    for (const [flag, line] of [['--tag', /^ {2}-t, --tag /m], ['--out', /^ {2}(?:-o, )?--out /m]] as const) {
      const having = [...helps].filter(([c, h]) => c && line.test(h)).map(([c]) => c.split(' ')[0]!);
      expect(having.length, flag).toBeGreaterThan(2);
      expect([...new Set(having)].filter((c) => !listed(flag).has(c)), flag).toEqual([]);
    }
  });

  it('--help states every default as "(default: …)", a number unquoted, and shows no preset or empty list', () => {
    const odd: string[] = [];
    for (const [command, help] of helps) {
      for (const m of flat(help).matchAll(/.{0,30}(?:\(default(?!:)|[,;] default(?!:)|preset:|default: \[\]|default: "\d+").{0,20}/g)) odd.push(`${command || 'gamelayer'}: ${m[0]}`);
    }
    expect(odd).toEqual([]);
  });

  it('k8s, ecs and run-local --help give the defaults the code uses', () => {
    const k = DEFAULT_K8S_OPTIONS;
    const port = `${k.port.containerPort}/${k.port.protocol!.toLowerCase()}`;
    const expected: Record<string, Record<string, string>> = {
      k8s: {
        '--kind': `"${k.kind}"`,
        '--pull-policy': k.pullPolicy!,
        '--port': port,
        '--port-policy': k.portPolicy!,
        '--cpu': String(k.engine.cpu),
        '--memory': String(k.engine.memory),
        '--copy-cpu': String(k.copy.cpu),
        '--copy-memory': String(k.copy.memory),
        '--scratch': `${k.scratchBytes / GiB}GiB`,
        '--uid': String(k.runAsUser),
        '--gid': String(k.runAsGroup),
        '--copy-root': k.copyRoot,
      },
      ecs: {
        '--launch-type': `"${DEFAULT_ECS_OPTIONS.launchType}"`,
        '--cpu': String(DEFAULT_ECS_OPTIONS.cpu),
        '--memory': String(DEFAULT_ECS_OPTIONS.memory),
        '--port': port,
        '--scratch': `${DEFAULT_ECS_OPTIONS.scratchBytes / GiB}GiB`,
        '--copy-root': DEFAULT_ECS_OPTIONS.copyRoot,
      },
      'run-local': { '--uid': String(k.runAsUser), '--gid': String(k.runAsGroup) },
    };
    const wrong: string[] = [];
    for (const [command, defaults] of Object.entries(expected)) {
      for (const [flag, value] of Object.entries(defaults)) {
        const text = described(helps.get(command)!, flag);
        if (!text.includes(`(default: ${value}`)) wrong.push(`${command} ${flag}: expected default ${value} in "${text}"`);
      }
    }
    expect(wrong).toEqual([]);
    expect(described(helps.get('ecs')!, '--network-mode')).toContain(`${DEFAULT_ECS_OPTIONS.networkMode} (the default`);
  });

  it('build and index --help give one default tag: the CodeBuild commit first, as both use it', async () => {
    // Both take codebuildEnvironment().defaultTag before the config's version; build's help named only the latter.
    expect(codebuildEnvironment({ CODEBUILD_BUILD_ID: 'p:1', CODEBUILD_RESOLVED_SOURCE_VERSION: '9a8b7c6d5e4f' })?.defaultTag).toBe('9a8b7c6d');
    for (const command of ['build', 'index']) expect(described(helps.get(command)!, '--tag'), command).toMatch(/default: [^)]*CodeBuild the first 8 characters of the commit[^)]*version[^)]*latest/);
  });
});

describe("the README's first screen", () => {
  it('names every tool npm test installs when missing (scripts/services.sh)', async () => {
    const services = await readFile('scripts/services.sh', 'utf8');
    const needed = [...services.slice(services.indexOf('declare -A NEEDED')).matchAll(/^ {2}\[([a-z0-9-]+)\]=/gm)].map((m) => m[1]!);
    expect(needed).toEqual(expect.arrayContaining(['dockerd', 'zstd', 'musl-gcc']));
    // The README says what a tool is where its command name says little.
    const called: Record<string, string> = { dockerd: 'Docker engine', docker: 'Docker engine', 'docker-registry': 'OCI registry', ctr: 'containerd', 'aarch64-linux-gnu-gcc': 'arm64 cross compiler' };
    const readme = flat(await readFile('README.md', 'utf8'));
    const screen = readme.slice(readme.indexOf('The second command installs'), readme.indexOf('runs every test'));
    expect(screen.length).toBeGreaterThan(0);
    expect(needed.filter((c) => !screen.includes(called[c] ?? c))).toEqual([]);
    if (services.includes('xxhash.h')) expect(screen).toContain('xxHash header');
  });
});

describe('links in README.md and docs/*.md', () => {
  it('name files that exist, and headings that exist in them (GitHub anchors)', async () => {
    const files = ['README.md', ...(await readdir('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const slug = (heading: string) => heading.replace(/`/g, '').trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const anchors = async (file: string) => new Set([...(await readFile(file, 'utf8')).matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        const [target, anchor] = m[1]!.split('#');
        if (/^[a-z]+:/.test(target!)) continue;
        const resolved = target ? path.join(path.dirname(file), target) : file;
        checked++;
        if (!existsSync(resolved)) broken.push(`${file}: ${m[1]}`);
        else if (anchor && resolved.endsWith('.md') && !(await anchors(resolved)).has(anchor)) broken.push(`${file}: ${m[1]} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
