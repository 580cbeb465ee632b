// `k8s --fill` of a manifest whose image is a block scalar (`image: |` then the placeholder on its own line): the
// block keeps its line break in the value, so the image looked up was "server\n", and the error said the build has no
// such image (its message broken over two lines). It is the block scalar that cannot be rewritten in place: said so,
// the value quoted, for `|`, `|-` and `>` alike.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushedRecord, REPOSITORY } from './k8s-fixture.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('k8s --fill with the image as a block scalar', () => {
  it('names the block scalar, whatever its chomping', async () => {
    const dir = await tempDir('gl-fill-block-');
    const trees = ['engine', 'engine-media', 'app', 'app-media'];
    await writeFile(path.join(dir, 'gamelayer.yaml'), ['game: my-game', 'start: [./bin/server]', `registry: ${REPOSITORY}`, 'trees:', ...trees.map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'));
    for (const t of trees) await mkdir(path.join(dir, t));
    await mkdir(path.join(dir, '.gamelayer', 'records'), { recursive: true });
    await writeFile(path.join(dir, '.gamelayer', 'records', 'build-last.json'), JSON.stringify({ kind: 'build', ...pushedRecord() }));
    for (const [indicator, value] of [['|', 'gamelayer://server\\n'], ['|-', 'gamelayer://server'], ['>', 'gamelayer://server\\n']] as const) {
      await writeFile(path.join(dir, 'pod.yaml'), `spec:\n  containers:\n    - image: ${indicator}\n        gamelayer://server\n`);
      const r = await runCli(['k8s', '--fill', 'pod.yaml'], { cwd: dir });
      expect(r.code, indicator).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr, indicator).toBe(`error[fill.scalar]: pod.yaml:3:14: "${value}": a block scalar cannot be rewritten in place\nhint: write the image reference on one line\n`);
    }
  });
});
