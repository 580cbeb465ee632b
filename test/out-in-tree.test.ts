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
