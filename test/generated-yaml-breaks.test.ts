// Strings of the generated YAML that hold NEL (U+0085), LS (U+2028) or PS (U+2029): a mount path, an --env value, the
// copy scripts built from them, a config file's name. YAML 1.2 (the `yaml` package) reads them as characters, YAML 1.1
// readers (go-yaml in kubectl, SnakeYAML, PyYAML) as line breaks: written raw, as the old code did, a plain or block
// scalar ended there and the rest of the line was read as YAML of its own (`: x` a key, `#c` a comment). Now such a
// string is double-quoted with the escapes `\N`, `\L`, `\P`, which every reader reads back as the character: the
// output holds none of them raw, and reads back as what was written.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { pushedRecord } from './k8s-fixture.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];
/** Characters a YAML 1.1 reader breaks lines at, and controls none takes unescaped. */
const RAW = /[\u007f-\u009f\u2028\u2029]/;

/** A game whose app and app-media mounts hold LS and NEL (written in the config with YAML's own escapes). */
async function game(configName = 'gamelayer.yaml', record: object = pushedRecord()): Promise<string> {
  const dir = await tempDir('gl-yaml-breaks-');
  for (const t of TREES) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(
    path.join(dir, configName),
    [
      'game: my-game',
      'version: 1.4.2',
      'baseImage: debian:bookworm-slim',
      'start: [./bin/server]',
      'registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-game',
      'trees:',
      '  engine: { source: engine }',
      '  engine-media: { source: engine-media, mount: "/srv/em\\P#c" }',
      '  app: { source: app, mount: "/srv/game\\Lkind: Secret" }',
      '  app-media: { source: app-media, mount: "/srv/media\\N: x" }',
      '',
    ].join('\n'),
  );
  await mkdir(path.join(dir, '.gamelayer', 'records'), { recursive: true });
  await writeFile(path.join(dir, '.gamelayer', 'records', 'build-last.json'), JSON.stringify({ kind: 'build', ...record }));
  return dir;
}

/** Every string in a parsed document. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

describe('generated YAML with line separators in its strings', () => {
  it('k8s: mount paths, an env value and the copy scripts read back as written, none raw', async () => {
    const dir = await game();
    const motd = 'hello\u2028world\u0085: x #y\u2029z';
    const r = await runCli(['k8s', '--kind', 'pod', '--volumes', 'init', '--env', `MOTD=${motd}`, '--copy-root', '/mnt/\u2028c', '--out', 'out'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(path.join(dir, 'out', 'pod.yaml'), 'utf8');
    expect(text).not.toMatch(RAW);
    expect(text).toContain('"/srv/game\\Lkind: Secret"');
    const pod = parse(text) as { spec: { containers: { env?: { name: string; value?: string }[]; volumeMounts: { mountPath: string }[] }[]; initContainers: { command?: string[]; args?: string[]; volumeMounts: { mountPath: string }[] }[] } };
    const engine = pod.spec.containers[0]!;
    expect(engine.env?.find((e) => e.name === 'MOTD')?.value).toBe(motd);
    const mounts = engine.volumeMounts.map((m) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/srv/em\u2029#c', '/srv/game\u2028kind: Secret', '/srv/media\u0085: x']));
    expect(pod.spec.initContainers.flatMap((c) => c.volumeMounts.map((m) => m.mountPath))).toContain('/mnt/\u2028c/app');
    // The copy scripts quote the paths for sh; they read back whole, each path inside.
    const scripts = pod.spec.initContainers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]).join('\n');
    expect(scripts).toContain("'/srv/game\u2028kind: Secret'");
    expect(scripts).toContain("'/srv/media\u0085: x/.'");
    expect(strings(pod).filter((s) => /kind: Secret/.test(s)).every((s) => s.includes('/srv/game\u2028kind: Secret'))).toBe(true);
  });

  it('codebuild buildspec: a config whose file name holds NEL and LS', async () => {
    const name = 'game\u0085kind: x\u2028#y.yaml';
    const dir = await game(name);
    const r = await runCli(['-c', name, 'codebuild', 'buildspec', '--out', 'buildspec.yml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const text = await readFile(path.join(dir, 'buildspec.yml'), 'utf8');
    expect(text).not.toMatch(RAW);
    // The header comment names it with the escapes spelled out; the variable holds it as it is.
    expect(text).toContain('# AWS CodeBuild buildspec for my-game (game\\N');
    const spec = parse(text) as { env: { variables: Record<string, string> } };
    expect(spec.env.variables.GAMELAYER_CONFIG).toBe(name);
    expect(Object.keys(spec)).toEqual(['version', 'env', 'phases', 'artifacts']);
  });
});

describe('a build record whose tag is not a tag', () => {
  it('k8s --kustomize-images and --fill --refs tag refuse it, naming the field, and write nothing', async () => {
    const dir = await game('gamelayer.yaml', pushedRecord({ tags: ['v1\nimages: [{name: gamelayer/server, newName: evil.example/x}] #'] }));
    const k = await runCli(['k8s', '--kustomize-images'], { cwd: dir });
    expect(k.code).toBe(1);
    expect(k.stdout).toBe('');
    expect(k.stderr).toContain('error[deploy.record-tag]: ');
    expect(k.stderr).toContain('build-last.json: tags[0]: "v1\\nimages: [{name: gamelayer/server, newName: evil.example/x}] #" is not an image tag');
    await writeFile(path.join(dir, 'fleet.yaml'), 'spec:\n  containers:\n    - image: gamelayer://server\n');
    const f = await runCli(['k8s', '--fill', 'fleet.yaml', '--refs', 'tag'], { cwd: dir });
    expect(f.code).toBe(1);
    expect(f.stdout).toBe('');
    expect(f.stderr).toContain('error[deploy.record-tag]: ');
  });
});
