// A tag put by hand on an old build's server image ("golden", a QA sign-off) keeps that image when prune removes the
// build: distribution deletes by digest, so the build's own tag stays too. Prune said the image was one "a kept build
// still uses" — no kept build used it; a tag no build claims names it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-prune-left-');
  await writeGame(dir);
});

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('prune of a build whose server image another tag names', () => {
  it('says a tag no build claims still names it, not a kept build', async () => {
    const repo = `${registry.host}/studio/left`;
    for (const [tag, content] of [['v1', '1'], ['v2', '2']] as const) {
      await writeFile(path.join(dir, 'app/game.xml'), `<game v="${content}"/>\n`);
      const r = await runCli(['build', '--tag', tag, '--push', repo], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    // "golden" put by hand on v1's server image.
    const got = await fetch(`${registry.url}/v2/studio/left/manifests/v1`, { headers: { accept: MANIFEST } });
    const put = await fetch(`${registry.url}/v2/studio/left/manifests/golden`, { method: 'PUT', headers: { 'content-type': MANIFEST }, body: Buffer.from(await got.arrayBuffer()) });
    expect(put.status).toBe(201);
    const r = await runCli(['prune', repo, '--keep', '1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // v1's unchanged tree images are v2's too; its server image is golden's.
    expect(r.stdout).toContain('left 4 tags whose image a kept build or a tag no build claims still names (v1, v1-app-media, v1-engine, v1-engine-media): this registry cannot remove one tag of several\n');
    expect(r.stdout).toContain('left 1 tag that no build record here claims (golden)');
  });
});
