// `build --push R1 --push R2` with a base image kept in both registries: each target mounts the base layers from its
// own copy. The progress lines of those mounts named the tag only ("blob 8fcee0ae38bd (v1): mounted", twice), so a CI
// log did not say which registry each was; the blob phase's lines name the repository, and now these do too.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const run = promisify(execFile);
const one = useRegistry();
const two = useRegistry();
let dir: string;
let baseLayer: string;
beforeAll(async () => {
  const layout = await tempDir('gl-mount-lines-base-');
  await writeBusyboxLayout(layout, { tag: 'busybox' });
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await readFile(path.join(layout, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  baseLayer = manifest.layers[0]!.digest;
  for (const r of [one, two]) await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:busybox`, `docker://${r.host}/base/busybox:1`]);
  dir = await tempDir('gl-mount-lines-');
  await writeGame(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, `baseImage: ${one.host}/base/busybox:1\n${await readFile(yaml, 'utf8')}`);
}, 60_000);

describe('a push to two registries that mounts the base in each', () => {
  it('names the registry on each mount line', async () => {
    const r = await runCli(['build', '--tag', 'v1', '--push', `${one.host}/studio/game`, '--push', `${two.host}/studio/game`], { cwd: dir, env: { CI: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const mounts = r.stderr.split('\n').filter((l) => l.startsWith(`blob ${baseLayer.slice(7, 19)} `) && l.includes('mounted'));
    expect(mounts.map((l) => l.slice(0, l.indexOf(':', l.indexOf(')')))).sort(), r.stderr).toEqual(
      [`blob ${baseLayer.slice(7, 19)} (${one.host}/studio/game)`, `blob ${baseLayer.slice(7, 19)} (${two.host}/studio/game)`].sort(),
    );
  });
});
