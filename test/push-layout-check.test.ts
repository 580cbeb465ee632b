// `push` reads the build's images through openLayout, which checked the store's oci-layout itself (a third check,
// beside the store's own): it only parsed the file, so a layout of another version was read as if it were 1.0.0,
// and a missing store said `(…/oci-layout: ENOENT)`. It now makes the store's check: the same words as every reader
// of a layout, with layout.missing (and "build the image first") kept for a store that is not there.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-push-layout-check-');
  await writeGame(dir);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
}, 60_000);

describe('push of a build whose store is not a layout gamelayer reads', () => {
  it('another layout version: store.layout-version, as every reader of a layout says', async () => {
    const store = path.join(dir, '.gamelayer/oci');
    await writeFile(path.join(store, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const r = await runCli(['push', `${registry.host}/studio/check:v1`], { cwd: dir });
    expect(r.stderr).toContain(`error[store.layout-version]: ${store}: unsupported image layout version in oci-layout (gamelayer reads 1.0.0)\n`);
    expect(r.code).toBe(1);
  });

  it('no store: layout.missing, saying so, with the hint to build', async () => {
    const store = path.join(dir, '.gamelayer/oci');
    await rm(store, { recursive: true });
    const r = await runCli(['push', `${registry.host}/studio/check:v1`], { cwd: dir });
    expect(r.stderr).toContain(`error[layout.missing]: ${store}: the store does not exist\nhint: build the image first (gamelayer build)\n`);
    expect(r.code).toBe(1);
  });
});
