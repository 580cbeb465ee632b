// The README's "Layer plan" said trees become layers "in the stable order engine → engine-media → app → app-media",
// but a build planning afresh stacks the server image as engine-media → engine → app-media → app (SERVER_STACK_ORDER):
// a reader checking `docker history` or `inspect` against the README found them the other way round. The order the
// README states is the one `gamelayer inspect --json` shows after a build of the sample game.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-readme-order-');
  copySample(dir);
});

describe("README's layer order", () => {
  it('is the order of the trees in the server image of a fresh build', async () => {
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    const r = await runCli(['inspect', '--json'], { cwd: dir });
    const layers = (JSON.parse(r.stdout) as { layers: { tree: string; status: string }[] }).layers.filter((l) => l.status !== 'marker');
    const built = [...new Set(layers.map((l) => l.tree))];
    const readme = (await readFile(path.resolve('README.md'), 'utf8')).replace(/\s+/g, ' ');
    const stated = /stacks their layers in the server image, bottom to top, as ([a-z-]+(?: → [a-z-]+){3})/.exec(readme)?.[1];
    expect(stated?.split(' → ')).toEqual(built);
  });
});
