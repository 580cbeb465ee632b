// An output path inside a tree's source: the old code wrote `dockerfile --out app` and `k8s --out app/x` there
// without a word, and the next build put the generated files into the app image. A symlink to the source is the source.
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-out-tree-');
  for (const t of TREES) {
    await mkdir(path.join(dir, t));
    await writeFile(path.join(dir, t, 'f.txt'), `${t}\n`);
  }
  await symlink('app', path.join(dir, 'app-link'));
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: out-tree', 'start: [/opt/local/engine/run]', 'trees:', ...TREES.map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
});

const refusals: [string, string[], string, string][] = [
  ['dockerfile --out app', ['dockerfile', '--out', 'app'], '--out app', 'app'],
  ['dockerfile --context app-media/ctx.tar', ['dockerfile', '--out', 'df', '--context', 'app-media/ctx.tar'], '--context app-media/ctx.tar', 'app-media'],
  ['k8s --out app/x (through a symlink to app)', ['k8s', '--local', '--out', 'app-link/x', '--repository', '127.0.0.1:9/s/g'], '--out app-link/x', 'app'],
  ['ecs --out engine/deploy', ['ecs', '--local', '--out', 'engine/deploy', '--repository', '127.0.0.1:9/s/g'], '--out engine/deploy', 'engine'],
  ['codebuild buildspec --out app/buildspec.yml', ['codebuild', 'buildspec', '--out', 'app/buildspec.yml'], '--out app/buildspec.yml', 'app'],
  ['sbom -o engine-media/sbom.json', ['sbom', '127.0.0.1:9/s/g:v1', '-o', 'engine-media/sbom.json'], '--out engine-media/sbom.json', 'engine-media'],
];

describe('an output path inside a tree source', () => {
  it.each(refusals)('%s: refused, naming the flag, the path and the tree; nothing written', async (_name, args, said, tree) => {
    const r = await runCli(args, { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error[cli.out-in-tree]: ${said}: inside trees.${tree}.source (${path.join(dir, tree)})`);
    expect(r.stderr).toContain('hint: write it outside the trees\' sources');
    for (const t of TREES) expect(await readdir(path.join(dir, t))).toEqual(['f.txt']);
  });

  it('dockerfile --out beside the trees is written as before', async () => {
    const r = await runCli(['dockerfile', '--out', 'df'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(path.join(dir, 'df'))).toContain('Dockerfile');
  });
});

// A Unity server as `gamelayer init` writes it: the engine tree is the build folder itself (`source: .`) and takes
// only the player's files. The old code refused every --out there, the default `dockerfile` and the hint's own
// `deploy/` included, though the next build would take none of what is written.
describe('an output folder in a source whose globs leave it out', () => {
  let unity: string;
  beforeAll(async () => {
    unity = await tempDir('gl-out-unity-');
    await mkdir(path.join(unity, 'Server_Data', 'StreamingAssets'), { recursive: true });
    await mkdir(path.join(unity, 'empty'));
    await writeFile(path.join(unity, 'Server.x86_64'), 'player\n');
    await writeFile(path.join(unity, 'UnityPlayer.so'), 'so\n');
    await writeFile(path.join(unity, 'Server_Data', 'boot.config'), 'boot\n');
    await writeFile(path.join(unity, 'Server_Data', 'StreamingAssets', 'a.bundle'), 'bundle\n');
    await writeFile(
      path.join(unity, 'gamelayer.yaml'),
      [
        'game: unity-out',
        'start: [/opt/game/Server.x86_64]',
        'trees:',
        '  engine: {source: ., include: [Server.x86_64, "*.so", "MonoBleedingEdge/**"], mount: /opt/game}',
        '  engine-media: {source: empty, mount: /opt/game/Server_Data/Resources}',
        '  app: {source: Server_Data, exclude: ["StreamingAssets/**"], mount: /opt/game/Server_Data}',
        '  app-media: {source: Server_Data/StreamingAssets, mount: /opt/game/Server_Data/StreamingAssets}',
        '',
      ].join('\n'),
    );
  });

  it('dockerfile (default --out dockerfiles), k8s and ecs --out deploy are written, and the next diff sees no change', async () => {
    const build = await runCli(['build'], { cwd: unity });
    expect(build.code, build.stderr).toBe(0);
    const dockerfile = await runCli(['dockerfile'], { cwd: unity });
    expect(dockerfile.code, dockerfile.stderr).toBe(0);
    expect(await readdir(path.join(unity, 'dockerfiles'))).toContain('Dockerfile');
    const k8s = await runCli(['k8s', '--local', '--out', 'deploy', '--repository', '127.0.0.1:9/s/g'], { cwd: unity });
    expect(k8s.code, k8s.stderr).toBe(0);
    const ecs = await runCli(['ecs', '--local', '--out', 'deploy', '--repository', '127.0.0.1:9/s/g'], { cwd: unity });
    expect(ecs.code, ecs.stderr).toBe(0);
    expect(await readdir(path.join(unity, 'deploy'))).toEqual(['ecs-task-definition.json', 'pod.yaml']);
    const diff = await runCli(['diff', '--exit-code'], { cwd: unity });
    expect(diff.code, diff.stdout + diff.stderr).toBe(0);
  });

  it('a file the globs take (a .so) and a folder inside a tree that takes everything are still refused; the hint says how to leave it out', async () => {
    const so = await runCli(['codebuild', 'buildspec', '--out', 'build.so'], { cwd: unity });
    expect(so.code, so.stderr).toBe(2);
    expect(so.stderr).toContain(`error[cli.out-in-tree]: --out build.so: inside trees.engine.source (${unity})`);
    expect(so.stderr).toContain('leave it out of the tree (add "build.so" to trees.engine.exclude in gamelayer.yaml)');
    // gamelayer.yaml's folder is in the engine's source: "a folder beside gamelayer.yaml" would be no way out.
    expect(so.stderr).not.toContain('beside gamelayer.yaml');
    const inApp = await runCli(['k8s', '--local', '--out', 'Server_Data/k8s', '--repository', '127.0.0.1:9/s/g'], { cwd: unity });
    expect(inApp.code, inApp.stderr).toBe(2);
    expect(inApp.stderr).toContain(`error[cli.out-in-tree]: --out Server_Data/k8s: inside trees.app.source (${path.join(unity, 'Server_Data')})`);
    expect(inApp.stderr).toContain('(a folder beside gamelayer.yaml such as deploy/), leave it out of the tree (add "k8s/**" to trees.app.exclude in gamelayer.yaml)');
    const inMedia = await runCli(['ecs', '--local', '--out', 'Server_Data/StreamingAssets/ecs', '--repository', '127.0.0.1:9/s/g'], { cwd: unity });
    expect(inMedia.code, inMedia.stderr).toBe(2);
    expect(inMedia.stderr).toContain('inside trees.app-media.source');
  });
});
