// The buildspecs: every file in buildspecs/ is a valid CodeBuild 0.2 buildspec, is exactly what
// `gamelayer codebuild buildspec` emits for the sample game, and every `gamelayer …` line in it parses against
// the real CLI. Then the daemonless buildspec's phases run as written against the sample game and a real registry.
import { lastBuildName } from '../src/state/last-build.js';
import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCommands } from '../src/cli/commands/index.js';
import { SOURCE_TAG, emitBuildspec, type BuildspecKind } from '../src/codebuild/buildspec.js';
import { parseBuildspec, PHASE_NAMES, type Buildspec } from '../src/codebuild/buildspec-schema.js';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { freePort, startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { runBuildspecPhases, type PhaseRun } from './support/buildspec-run.js';

const commands = await loadCommands();

const ROOT = path.resolve('.');
const SAMPLE = 'fixtures/sample-game/gamelayer.yaml';
const FILES: Record<string, BuildspecKind> = {
  'buildspec.yml': 'daemonless',
  'buildspec-docker.yml': 'docker',
  'buildspec-diff.yml': 'pr-check',
};

/** Options a buildspec may use before another issue adds them to the CLI (option → what adds it). Once one
 *  exists, the test below fails until it is taken off this list, so the list never outlives its reason. */
const PENDING_OPTIONS: Record<string, string> = {};

async function buildspecFiles(): Promise<string[]> {
  return (await readdir(path.join(ROOT, 'buildspecs'))).filter((f) => /\.ya?ml$/.test(f)).sort();
}

async function readSpec(name: string): Promise<Buildspec> {
  return parseBuildspec(await readFile(path.join(ROOT, 'buildspecs', name), 'utf8'), `buildspecs/${name}`);
}

function allCommands(spec: Buildspec): string[] {
  return PHASE_NAMES.flatMap((p) => spec.phases[p]?.commands ?? []);
}

// --- a small shell word splitter: enough for the buildspec lines (quotes, ||, &&, ;, |, redirections) ---
function shellSegments(line: string): string[][] {
  const segments: string[][] = [[]];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  const flush = () => {
    if (word !== undefined) segments.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      word = word ?? '';
    } else if (c === '>') {
      // A redirection: `> file`, `>> file`, `>&2`; neither it nor its target is an argument.
      if (word !== undefined && /^\d$/.test(word)) word = undefined;
      flush();
      if (line[i + 1] === '>') i++;
      if (line[i + 1] === '&') {
        i++;
        while (/\d/.test(line[i + 1] ?? '')) i++;
      } else {
        while (line[i + 1] === ' ') i++;
        while (i + 1 < line.length && !' |&;'.includes(line[i + 1]!)) i++;
      }
    } else if (c === ' ') flush();
    else if (c === '|' || c === '&' || c === ';') {
      flush();
      if ((c === '|' || c === '&') && line[i + 1] === c) i++;
      segments.push([]);
    } else word = (word ?? '') + c;
  }
  expect(quote, `unbalanced quote in: ${line}`).toBeUndefined();
  flush();
  return segments
    .map((words) => {
      const out: string[] = [];
      for (const w of words) if (w !== '{' && w !== '}' && !(out.length === 0 && SHELL_KEYWORDS.has(w))) out.push(w);
      return out;
    })
    .filter((s) => s.length > 0);
}

const SHELL_KEYWORDS = new Set(['if', 'then', 'else', 'fi']);
const OTHER_PROGRAMS = new Set(['npm', 'export', 'test', '[', '[[', 'echo', 'false', 'cat', 'cp', 'aws', 'docker']);

/** Parses `gamelayer …` words against the real command tree; returns options the CLI does not know. */
function unknownOptions(words: string[]): string[] {
  const program = new Command('gamelayer').option('-c, --config <file>').exitOverride();
  for (const register of commands) register(program);
  let args = words.slice(1);
  if (args[0] === '-c') args = args.slice(2);
  let cmd: Command = program;
  const names: string[] = [];
  for (;;) {
    const sub = cmd.commands.find((c) => c.name() === args[0]);
    if (!sub) break;
    names.push(args[0]!);
    cmd = sub;
    args = args.slice(1);
  }
  expect(names.length, `no such command: ${words.join(' ')}`).toBeGreaterThan(0);
  expect(cmd.commands, `${names.join(' ')} needs a subcommand`).toEqual([]);
  const parsed = cmd.parseOptions(args);
  const unknown = parsed.unknown.filter((w) => w.startsWith('-')).map((o) => `${names.join(' ')} ${o}`);
  if (unknown.length === 0) {
    const required = cmd.registeredArguments.filter((a) => a.required).length;
    expect(parsed.operands.length, `arguments of ${words.join(' ')}`).toBeGreaterThanOrEqual(required);
    expect(parsed.operands.length, `arguments of ${words.join(' ')}`).toBeLessThanOrEqual(cmd.registeredArguments.length);
  }
  return unknown;
}

describe('buildspecs/', () => {
  it('holds the three buildspecs, each a valid CodeBuild 0.2 buildspec', async () => {
    expect(await buildspecFiles()).toEqual(Object.keys(FILES).sort());
    for (const f of await buildspecFiles()) {
      const spec = await readSpec(f);
      expect(spec.version).toBe(0.2);
      expect(spec.env?.variables?.GAMELAYER_CONFIG).toBe(SAMPLE);
      expect(spec.phases.install?.['runtime-versions']).toEqual({ nodejs: 20 });
      expect(spec.phases.install?.commands[0]).toBe('npm ci --no-audit --no-fund');
      // No cache: the registry is the build state, and no scan cache survives CodeBuild's fresh checkout (below).
      expect(spec.cache, f).toBeUndefined();
      expect(spec.artifacts?.files.length).toBeGreaterThan(0);
    }
  });

  it('each file is exactly what `gamelayer codebuild buildspec` emits for the sample game', async () => {
    const config = await loadConfig(path.join(ROOT, SAMPLE));
    for (const [file, kind] of Object.entries(FILES)) {
      const text = await readFile(path.join(ROOT, 'buildspecs', file), 'utf8');
      expect(emitBuildspec(config, { kind, sourceRoot: ROOT }), `buildspecs/${file}: regenerate with gamelayer codebuild buildspec`).toBe(text);
      // Deterministic: a second emission is the same text.
      expect(emitBuildspec(config, { kind, sourceRoot: ROOT })).toBe(text);
    }
  });

  it('every command is a gamelayer invocation the CLI accepts, or a small known shell step', async () => {
    const stillPending = new Set<string>();
    for (const f of await buildspecFiles()) {
      for (const line of allCommands(await readSpec(f))) {
        for (const words of shellSegments(line)) {
          if (words[0] === 'gamelayer') {
            expect(words[1], line).toBe('-c');
            expect(words[2], line).toBe('$GAMELAYER_CONFIG');
            for (const u of unknownOptions(words)) {
              expect(PENDING_OPTIONS, `${f}: "${line}": unknown option ${u}`).toHaveProperty([u]);
              stillPending.add(u);
            }
          } else {
            expect(OTHER_PROGRAMS.has(words[0]!), `${f}: "${line}": unexpected program ${words[0]}`).toBe(true);
          }
        }
      }
    }
    // An option that has landed must leave the pending list (and the buildspecs it appears in get run).
    expect([...stillPending].sort(), 'options in PENDING_OPTIONS that the CLI now knows').toEqual(Object.keys(PENDING_OPTIONS).sort());
  });

  it('the daemonless and docker buildspecs tag with 8 characters of the commit, push in the build phase and stop on failure', async () => {
    for (const f of ['buildspec.yml', 'buildspec-docker.yml']) {
      const spec = await readSpec(f);
      expect(spec.phases.pre_build?.commands).toContain(`${SOURCE_TAG}; export IMAGE_TAG="\${IMAGE_TAG:-build-$CODEBUILD_BUILD_NUMBER}"`);
      expect(spec.env?.shell).toBe('bash');
      for (const p of ['install', 'pre_build', 'build'] as const) expect(spec.phases[p]?.['on-failure'], `${f} ${p}`).toBe('ABORT');
      expect(spec.phases.build?.commands).toEqual([
        `gamelayer -c "$GAMELAYER_CONFIG" build${f.includes('docker') ? ' --builder docker' : ''} --push "$REPOSITORY_URI" --tag "$IMAGE_TAG"`,
      ]);
    }
    const daemonless = await readSpec('buildspec.yml');
    expect(daemonless.artifacts?.files).toEqual(['imagedefinitions.json', 'gamelayer-build-record.json', 'gamelayer-diff.txt', 'gamelayer-pull-cost.txt', 'k8s-out/**/*']);
    const post = daemonless.phases.post_build!.commands.join('\n');
    expect(post).toContain('k8s --repository "$REPOSITORY_URI" --out k8s-out');
    expect(post).toContain('codebuild imagedefinitions --repository "$REPOSITORY_URI" --out imagedefinitions.json');
    // A baseline image without a record is reported by diff itself (--if-exists); no `|| echo` hides a real failure.
    expect(post).toContain('diff --against "$REPOSITORY_URI:$BASELINE_TAG" --if-exists > gamelayer-pull-cost.txt');
    for (const f of ['buildspec.yml', 'buildspec-docker.yml', 'buildspec-diff.yml']) expect(allCommands(await readSpec(f)).join('\n')).not.toMatch(/\|\| *echo/);
    const docker = await readSpec('buildspec-docker.yml');
    expect(docker.phases.pre_build?.commands.join('\n')).toMatch(/aws ecr get-login-password --region "\$AWS_REGION" \| docker login --username AWS --password-stdin/);
    const pr = await readSpec('buildspec-diff.yml');
    expect(allCommands(pr).join('\n')).not.toMatch(/\b(push|--push)\b/);
  });
});

describe('buildspec schema and emitter', () => {
  const good = 'version: 0.2\nphases:\n  build:\n    commands:\n      - gamelayer build\n';
  it('refuses what CodeBuild would not run as meant, naming the field', () => {
    expect(() => parseBuildspec(good, 'b.yml')).not.toThrow();
    const cases: [string, RegExp][] = [
      [good.replace('0.2', '0.1'), /b\.yml: version: /],
      [good.replace('build:', 'post-build:'), /b\.yml: phases: .*post-build/],
      [good.replace('      - gamelayer build\n', '      []\n'), /b\.yml: phases\.build\.commands: /],
      [`${good}artifacts:\n  name: x\n`, /b\.yml: artifacts\.files: /],
      [`${good}cache:\n  path: [a]\n`, /b\.yml: cache: .*path/],
      ['version: 0.2\nphases: {}\n', /b\.yml: phases: expected at least one phase/],
      ['version: 0.2\n  bad: [\n', /b\.yml: invalid YAML/],
    ];
    for (const [text, message] of cases) {
      let err: unknown;
      try {
        parseBuildspec(text, 'b.yml');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(GamelayerError);
      expect((err as Error).message, text).toMatch(message);
    }
  });

  const trees = 'trees:\n  engine: {source: e}\n  engine-media: {source: em}\n  app: {source: a}\n  app-media: {source: am}\n';
  it('uses the config\'s registry as REPOSITORY_URI (tag dropped) and caches nothing', () => {
    const config = parseConfig(`game: g\nstart: ./s\nregistry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/studio/g:v1\nstore: ../oci-store\n${trees}`, '/src/games/g/gamelayer.yaml');
    const text = emitBuildspec(config, { sourceRoot: '/src' });
    const spec = parseBuildspec(text, 'emitted');
    expect(spec.env?.variables).toEqual({ GAMELAYER_CONFIG: 'games/g/gamelayer.yaml', REPOSITORY_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/studio/g' });
    expect(spec.cache).toBeUndefined();
    // Its store is not the default: the last build into it is a pointer of its own (state/last-build.ts).
    const last = lastBuildName(config.stateDir, config.store);
    expect(last).toMatch(/^build-last@[0-9a-f]{12}\.json$/);
    expect(spec.phases.post_build?.commands).toContain(`cp games/g/.gamelayer/records/${last} gamelayer-build-record.json`);
  });

  it('refuses a config outside the source root', () => {
    const config = parseConfig(`game: g\nstart: ./s\n${trees}`, '/elsewhere/gamelayer.yaml');
    expect(() => emitBuildspec(config, { sourceRoot: '/src' })).toThrow(/the config \/elsewhere\/gamelayer\.yaml is outside the source root \/src/);
  });
});

// --- the daemonless buildspec, run as CodeBuild runs it: every command of a phase in one bash, in order ---

let registry: TestRegistry;
let work: string;
const REPO = 'studio/sample-game';

beforeAll(async () => {
  registry = await startRegistry();
  work = await tempDir('gl-buildspec-');
}, 120_000);
afterAll(async () => {
  await registry?.stop();
});

/** Runs pre_build, build and post_build as one bash script that stops at the first failing command. */
function runBuildspec(spec: Buildspec, src: string, env: Record<string, string>): Promise<PhaseRun> {
  return runBuildspecPhases(spec, src, env, work);
}

/** The app-media file the second commit of the sample changes (the first in path order). */
const SECOND_COMMIT_ASSET = fg.sync('**/*', { cwd: path.join(ROOT, 'fixtures/sample-game/app-media'), onlyFiles: true })[0]!;

/** What a CodeBuild host holds before the build: the source, and the paths a buildspec's cache would bring back. */
async function emptyHost(src: string, spec: Buildspec): Promise<void> {
  const keep = new Set(await fg(spec.cache?.paths ?? [], { cwd: src, dot: true }));
  for (const f of await fg('**/.gamelayer/**/*', { cwd: src, dot: true })) if (!keep.has(f)) await rm(path.join(src, f), { force: true });
  for (const d of await fg('**/.gamelayer/oci', { cwd: src, dot: true, onlyDirectories: true })) await rm(path.join(src, d), { recursive: true, force: true });
}

describe('buildspecs/buildspec.yml, run', () => {
  it('builds and pushes the sample game, writes the k8s spec, the record, the diff report and imagedefinitions.json; a second build on an empty host diffs and plans against the first in the registry', async () => {
    const spec = await readSpec('buildspec.yml');
    const src = path.join(work, 'src');
    await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    const repositoryUri = `${registry.host}/${REPO}`;
    const webhook = { CODEBUILD_WEBHOOK_HEAD_REF: 'refs/heads/main' };
    const first = await runBuildspec(spec, src, { REPOSITORY_URI: repositoryUri, CODEBUILD_RESOLVED_SOURCE_VERSION: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', ...webhook });
    expect(first.code, first.stderr).toBe(0);

    const tags = await storedTags(registry.storageDir, REPO);
    // The images, the build record beside them (the baseline a later build's report fetches) and the branch's line tag.
    expect(Object.keys(tags).sort()).toEqual(['1a2b3c4d', '1a2b3c4d-app', '1a2b3c4d-app-media', '1a2b3c4d-engine', '1a2b3c4d-engine-media', '1a2b3c4d.gamelayer-record', 'gamelayer-line.main']);
    // Every artifact pattern matches what the phases wrote.
    for (const pattern of spec.artifacts!.files) expect(await fg(pattern, { cwd: src }), pattern).not.toEqual([]);
    const defs = JSON.parse(await readFile(path.join(src, 'imagedefinitions.json'), 'utf8')) as { name: string; imageUri: string }[];
    expect(defs.map((d) => d.name)).toEqual(['engine', 'copy-engine-media', 'copy-app', 'copy-app-media']);
    for (const d of defs) {
      const m = new RegExp(`^${repositoryUri.replace(/\./g, '\\.')}:(1a2b3c4d-[a-z-]+)@(sha256:[0-9a-f]{64})$`).exec(d.imageUri);
      expect(m, d.imageUri).not.toBeNull();
      expect(tags[m![1]!], d.imageUri).toBe(m![2]);
    }
    const record = JSON.parse(await readFile(path.join(src, 'gamelayer-build-record.json'), 'utf8')) as { tags: string[]; game: string };
    expect(record.game).toBe('sample-game');
    expect(record.tags[0]).toBe('1a2b3c4d');
    const pod = await readFile(path.join(src, 'k8s-out/pod.yaml'), 'utf8');
    // Pod templates name images by digest only (issue 18): the digest the registry holds under the tree image's tag.
    expect(pod).toContain(`image: ${repositoryUri}@${tags['1a2b3c4d-app-media']}\n`);
    expect(await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8')).toBe(`no earlier build of line "main" in ${repositoryUri}: every layer is new\n`);
    // No BASELINE_TAG, no webhook's previous commit, and the line's first build was planned on no earlier build.
    expect(await readFile(path.join(src, 'gamelayer-pull-cost.txt'), 'utf8')).toBe(
      'the last build (1a2b3c4d) was planned on no earlier build in a registry: no baseline to compare with (set BASELINE_TAG to compare with an earlier image)\n',
    );

    // The next commit changes one asset, on another host: only the cached paths come back, the rest of .gamelayer/
    // (records, layer cache, store) is gone. The diff and the plan come from the registry's record of the branch.
    await emptyHost(src, spec);
    expect(await fg('fixtures/sample-game/.gamelayer/oci/**/*', { cwd: src })).toEqual([]);
    await appendFile(path.join(src, 'fixtures/sample-game/app-media', SECOND_COMMIT_ASSET), 'changed by the next commit');
    await registry.resetAccessLog();
    const second = await runBuildspec(spec, src, {
      REPOSITORY_URI: repositoryUri,
      CODEBUILD_RESOLVED_SOURCE_VERSION: '99aa88bb77cc66dd55ee44ff33aa22bb11cc00dd',
      // No BASELINE_TAG nor a webhook's previous commit (a StartBuild): the baseline of the pull-cost report is the
      // line's previous build, the one this build planned on (the line's tag names this build by post_build).
      ...webhook,
    });
    expect(second.code, second.stderr).toBe(0);
    const asset = SECOND_COMMIT_ASSET;
    // No layer of the first build was downloaded: the only blobs read are records (and a config for the record index).
    const firstLayers = new Set(JSON.parse(await readFile(path.join(src, 'gamelayer-build-record.json'), 'utf8')).layers.map((l: { digest: string }) => l.digest));
    const gets = (await registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/sha256:'));
    expect(gets.filter((e) => firstLayers.has(e.path.split('/blobs/')[1]))).toEqual([]);
    const diff = await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8');
    expect(diff).toContain(asset);
    expect(diff).toMatch(/app-media/);
    expect(diff).toContain(`${repositoryUri}:gamelayer-line.main → working trees`);
    // What it compared, and no pull cost: pre_build runs before this host has a build ("no local build to compute the
    // pull cost to" ended every report); post_build's gamelayer-pull-cost.txt has it, to this build.
    expect(diff).not.toContain('no local build');
    expect(diff).not.toContain('pull cost');
    expect(Object.keys(await storedTags(registry.storageDir, REPO))).toEqual(expect.arrayContaining(['99aa88bb-app-media', '99aa88bb.gamelayer-record']));
    // The registry's layers were kept, and the unchanged trees' pushes sent no blob; the changed tree's did.
    expect(second.stdout).toMatch(/^engine +0 +\d+ .* reused /m);
    expect(second.stdout).toMatch(/^app-media +\d+ +\d+ .* (built|patch) +sha256:/m);
    expect(second.stdout).toMatch(/^blobs: \d+ uploaded, \d+ mounted, [1-9]\d* already there/m);
    // The pull-cost report against the line's previous build, fetched from the registry with its record.
    const cost = await readFile(path.join(src, 'gamelayer-pull-cost.txt'), 'utf8');
    expect(cost).toContain(`${repositoryUri}:1a2b3c4d → working trees`);
    expect(cost).toContain(`pull cost: a node running ${repositoryUri}:1a2b3c4d (the line's previous build, which 99aa88bb was planned on) pulls to run the last build (99aa88bb)`);
    expect(cost).toMatch(/^engine +0\/\d+ +0 B /m);
    expect(cost).toMatch(/^app-media +[1-9]\d*\/\d+ +[\d.]+ KiB /m);
  }, 240_000);

  it('caches nothing: CodeBuild checks the source out afresh at another path, and no scan cache is ever used there', async () => {
    // What the buildspecs cached up to stop 44 (`cache: paths`), brought back into the next build's checkout, as a
    // LOCAL or S3 cache does: the stat caches are keyed by the source's absolute path and each file's inode and ctime,
    // the archive listings likewise, so the second checkout (another CODEBUILD_SRC_DIR, the same files and times)
    // rehashes every file. The cache only cost its upload and download and promised what it never gave.
    const cached = ['fixtures/sample-game/.gamelayer/cache/stat', 'fixtures/sample-game/.gamelayer/cache/archive'];
    const checkout = async (n: number) => {
      const src = path.join(work, `codebuild-src${n}`, 'src');
      await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, filter: (p) => !p.includes('.gamelayer') });
      return src;
    };
    const scan = async (src: string) => {
      const r = await runCli(['-c', SAMPLE, 'scan', '--json'], { cwd: src });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { trees: { tree: string; cacheHits: number; hashedFiles: number }[] }).trees;
    };
    const first = await checkout(1);
    await scan(first);
    // The same checkout again: the caches work where the files stay.
    expect((await scan(first)).every((t) => t.hashedFiles === 0 && t.cacheHits > 0)).toBe(true);
    const second = await checkout(2);
    for (const c of cached) await cp(path.join(first, c), path.join(second, c), { recursive: true, preserveTimestamps: true });
    const trees = await scan(second);
    expect(trees.map((t) => [t.tree, t.cacheHits])).toEqual(trees.map((t) => [t.tree, 0]));
    expect(trees.every((t) => t.hashedFiles > 0)).toBe(true);
    for (const f of await buildspecFiles()) expect((await readSpec(f)).cache, f).toBeUndefined();
  }, 120_000);

  it('a registry that cannot be read fails pre_build: never taken for "no earlier build"', async () => {
    const spec = await readSpec('buildspec.yml');
    const src = path.join(work, 'src-down');
    await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    // Two attempts (GAMELAYER_REGISTRY_RETRIES): the default six only wait longer for the same refusal.
    const r = await runBuildspec(spec, src, { REPOSITORY_URI: `127.0.0.1:${await freePort()}/${REPO}`, CODEBUILD_RESOLVED_SOURCE_VERSION: '1a2b3c4d5e6f', GAMELAYER_REGISTRY_RETRIES: '2' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('refused the connection (after 2 attempts)');
    expect(r.stderr).toMatch(/\[pre_build\] failed with [1-9]/);
    expect(await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8')).not.toContain('no earlier build');
  });

  it('an S3 source: the tag is build-<number>, never the object version id CodeBuild resolved', async () => {
    // For an S3 source CODEBUILD_RESOLVED_SOURCE_VERSION is the object's version id (this one is S3's documented
    // example): its first 8 characters, "3/L4kqtJ", were the tag, and the build phase refused it (build.bad-tag).
    const spec = await readSpec('buildspec.yml');
    const src = path.join(work, 'src-s3');
    await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    const repositoryUri = `${registry.host}/studio/s3-source`;
    const r = await runBuildspec(spec, src, {
      REPOSITORY_URI: repositoryUri,
      CODEBUILD_SOURCE_REPO_URL: 's3://game-drops/sample-game/server.zip',
      CODEBUILD_RESOLVED_SOURCE_VERSION: '3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/s3-source'))).toEqual(expect.arrayContaining(['build-12', 'build-12.gamelayer-record']));
    const defs = JSON.parse(await readFile(path.join(src, 'imagedefinitions.json'), 'utf8')) as { imageUri: string }[];
    expect(defs[0]!.imageUri).toContain(`${repositoryUri}:build-12-engine@sha256:`);
  }, 120_000);

  it('stops in pre_build with a clear message when REPOSITORY_URI is not set', async () => {
    const spec = await readSpec('buildspec.yml');
    const src = path.join(work, 'src-norepo');
    await mkdir(src, { recursive: true });
    const r = await runBuildspec(spec, src, { REPOSITORY_URI: '', CODEBUILD_RESOLVED_SOURCE_VERSION: '1a2b3c4d5e6f' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('REPOSITORY_URI is not set: set it on the CodeBuild project');
    expect(r.stderr).toContain('[pre_build] failed with 1');
  });
});

describe('buildspecs/buildspec-diff.yml, run', () => {
  it('prints the diff and the layer table of a local build, and pushes nothing', async () => {
    const spec = await readSpec('buildspec-diff.yml');
    const src = path.join(work, 'src-pr');
    await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    // The pull request holds the second commit's sources (the first test pushed them to main as 99aa88bb).
    await appendFile(path.join(src, 'fixtures/sample-game/app-media', SECOND_COMMIT_ASSET), 'changed by the next commit');
    const tagsBefore = await storedTags(registry.storageDir, REPO).catch(() => ({}));
    // A pull request's CODEBUILD_WEBHOOK_PREV_COMMIT is a commit of its branch, never built into the registry: it was
    // taken as the baseline, and the report said that image was not there. The baseline is the build planned on: the
    // target line's newest, the image the first test pushed from the same sources as 99aa88bb.
    const r = await runBuildspec(spec, src, {
      CODEBUILD_RESOLVED_SOURCE_VERSION: '1a2b3c4d5e6f',
      REPOSITORY_URI: `${registry.host}/${REPO}`,
      CODEBUILD_WEBHOOK_PREV_COMMIT: 'ccddeeff00112233445566778899aabbccddeeff',
      CODEBUILD_WEBHOOK_HEAD_REF: 'refs/heads/feature/x',
      CODEBUILD_WEBHOOK_BASE_REF: 'refs/heads/main',
    });
    expect(r.code, r.stderr).toBe(0);
    // Compared with the target branch's newest build in the registry (an empty host: nothing cached).
    expect(r.stdout).toContain(`${registry.host}/${REPO}:gamelayer-line.main → working trees`);
    expect(r.stdout).toContain('no changes');
    expect(r.stdout).toMatch(/previous build: .*gamelayer-line\.main \(line main\)/);
    // Same content built on an empty host gives the same layers: nodes running the baseline pull nothing.
    expect(r.stdout).toMatch(new RegExp(`pull cost: a node running ${registry.host}/${REPO}:99aa88bb \\(the line's previous build, which pr-12 was planned on\\) pulls`));
    expect(await readFile(path.join(src, 'gamelayer-pull-cost.txt'), 'utf8')).toMatch(/^the pod pulls 0 B of /m);
    expect(r.stdout).toMatch(/^layers: \d+ built, \d+ reused; new bytes .* of /m);
    expect(r.stdout).toContain('images in ');
    expect(r.stdout).toContain(': pr-12, pr-12-engine,');
    expect(await storedTags(registry.storageDir, REPO).catch(() => ({}))).toEqual(tagsBefore);
  }, 120_000);
});

describe('gamelayer codebuild buildspec (the command)', () => {
  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/gamelayer.js'), '-c', SAMPLE, 'codebuild', 'buildspec', ...args], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('prints the checked-in buildspecs from the repository root; --out writes the file', async () => {
    for (const [flags, file] of [[[], 'buildspec.yml'], [['--docker'], 'buildspec-docker.yml'], [['--pr-check'], 'buildspec-diff.yml']] as const) {
      const r = await run([...flags]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(await readFile(path.join(ROOT, 'buildspecs', file), 'utf8'));
    }
    const out = path.join(work, 'emitted', 'buildspec.yml');
    const w = await run(['--out', out]);
    expect(w.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await readFile(path.join(ROOT, 'buildspecs/buildspec.yml'), 'utf8'));
    const both = await run(['--docker', '--pr-check']);
    expect(both.code).toBe(2); // a usage error (cli.*)
    expect(both.stderr).toContain('error[cli.buildspec-kind]: --docker and --pr-check: choose one');
  });
});

describe('a buildspec with the supply chain (codebuild buildspec --sbom --sign KEY)', () => {
  function emit(args: string[], cwd = ROOT, config = SAMPLE): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/gamelayer.js'), '-c', config, 'codebuild', 'buildspec', ...args], { cwd });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('runs as CodeBuild runs it: the pushed build carries a signed SBOM and signed images that verify', async () => {
    const keys = path.join(work, 'keys');
    await mkdir(keys, { recursive: true });
    const { execFileSync } = await import('node:child_process');
    execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', keys]);
    const emitted = await emit(['--sbom', '--sign', path.join(keys, 'key.pem')]);
    expect(emitted.code, emitted.stderr).toBe(0);
    const spec = parseBuildspec(emitted.stdout, 'emitted');
    expect(spec.env?.variables?.GAMELAYER_SIGN_KEY).toBe(path.join(keys, 'key.pem'));
    for (const line of allCommands(spec)) for (const words of shellSegments(line)) if (words[0] === 'gamelayer') expect(unknownOptions(words), line).toEqual([]);
    const src = path.join(work, 'src-signed');
    await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    const repositoryUri = `${registry.host}/studio/signed`;
    const r = await runBuildspec(spec, src, { REPOSITORY_URI: repositoryUri, CODEBUILD_RESOLVED_SOURCE_VERSION: '5e6f708192a3b4c5d6e7f8091a2b3c4d1a2b3c4d', CODEBUILD_WEBHOOK_HEAD_REF: 'refs/heads/main' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^SBOM sha256:[0-9a-f]{64}: \d+ files/m);
    const verify = spawn(process.execPath, [path.join(ROOT, 'bin/gamelayer.js'), 'verify', `${repositoryUri}:5e6f7081`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: src });
    const code = await new Promise<number | null>((resolve) => verify.on('close', resolve));
    expect(code).toBe(0);
  }, 240_000);

  it('the batch buildspec signs in every platform job and in the merge job, with options the CLI knows', async () => {
    const game = path.join(work, 'batch-game');
    await cp(path.join(ROOT, 'fixtures/sample-game'), game, { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
    await appendFile(path.join(game, 'gamelayer.yaml'), '\nplatforms: [linux/amd64, linux/arm64]\n');
    const emitted = await emit(['--batch', '--sbom', '--sign', 'awskms:///arn:aws:kms:eu-west-1:123456789012:key/k'], game, 'gamelayer.yaml');
    expect(emitted.code, emitted.stderr).toBe(0);
    const spec = parseBuildspec(emitted.stdout, 'emitted');
    expect(spec.env?.variables?.GAMELAYER_SIGN_KEY).toBe('awskms:///arn:aws:kms:eu-west-1:123456789012:key/k');
    const segments = allCommands(spec).flatMap((line) => shellSegments(line)).filter((w) => w[0] === 'gamelayer');
    for (const words of segments) expect(unknownOptions(words), words.join(' ')).toEqual([]);
    const build = segments.find((w) => w[3] === 'build')!;
    const index = segments.find((w) => w[3] === 'index')!;
    expect(build).toEqual(expect.arrayContaining(['--sbom', '--sign', '$GAMELAYER_SIGN_KEY']));
    expect(index).toEqual(expect.arrayContaining(['--sign', '$GAMELAYER_SIGN_KEY']));
    expect(index).not.toContain('--sbom'); // the platform builds attach the SBOMs, to their own manifests
  });

  it('refuses --sbom and --sign for buildspecs that push nothing or push through Docker', async () => {
    for (const kind of ['--pr-check', '--docker']) {
      const r = await emit([kind, '--sign', 'awskms:///arn:aws:kms:eu-west-1:123456789012:key/k']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error[cli.needs-push]: codebuild buildspec ${kind} --sign`);
    }
  });
});
