// `k8s --fill --in-place` run again after a new build: the earlier fill left `<repository>@sha256:…` with no tag,
// and each reference must stay the image it was (a tree's copy image stayed the tree's). The old code took every
// tag-less reference for the server image, so an init container copying `app` was given the server image.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const REPO = 'localhost:5000/refill';
let dir: string;

const digestOf = (text: string, container: string) => new RegExp(`name: ${container}\\n\\s+image: "?${REPO}@(sha256:[a-f0-9]{64})`).exec(text)?.[1];

async function build(): Promise<void> {
  const r = await runCli(['build'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

async function lastImages(): Promise<{ server: string; app: string }> {
  const r = await runCli(['inspect', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const images = (JSON.parse(r.stdout) as { images: { name: string; digest: string }[] }).images;
  return { server: images.find((i) => i.name === 'server')!.digest, app: images.find((i) => i.name === 'app')!.digest };
}

beforeAll(async () => {
  dir = await tempDir('gl-refill-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) {
    await mkdir(path.join(dir, t));
    await writeFile(path.join(dir, t, 'file.txt'), `${t}\n`);
  }
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: refill', 'start: [/opt/local/engine/run]', `registry: ${REPO}`, 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
  await writeFile(
    path.join(dir, 'pod.yaml'),
    ['spec:', '  initContainers:', '  - name: copy-app', '    image: "gamelayer://app"', '  containers:', '  - name: engine', '    image: gamelayer://server', ''].join('\n'),
  );
  await build();
});

describe('k8s --fill --in-place, again after a new build', () => {
  it('keeps each digest-pinned reference the image it was: the tree stays the tree, the server the server', async () => {
    const first = await runCli(['k8s', '--fill', 'pod.yaml', '--in-place', '--local'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const one = await lastImages();
    let text = await readFile(path.join(dir, 'pod.yaml'), 'utf8');
    expect(digestOf(text, 'copy-app')).toBe(one.app);
    expect(digestOf(text, 'engine')).toBe(one.server);

    // A second fill of the same build changes nothing.
    const same = await runCli(['k8s', '--fill', 'pod.yaml', '--in-place', '--local'], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'pod.yaml'), 'utf8')).toBe(text);
    // …and says so: each reference unchanged, no `X -> X` that reads as a change.
    expect(same.stderr).toContain(`pod.yaml:7:12: ${REPO}@${one.server} (unchanged)`);
    expect(same.stderr).not.toContain(' -> ');

    await writeFile(path.join(dir, 'app', 'file.txt'), 'app v2\n');
    await build();
    const two = await lastImages();
    expect(two.app).not.toBe(one.app);
    const again = await runCli(['k8s', '--fill', 'pod.yaml', '--in-place', '--local'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    text = await readFile(path.join(dir, 'pod.yaml'), 'utf8');
    expect(digestOf(text, 'copy-app')).toBe(two.app);
    expect(digestOf(text, 'engine')).toBe(two.server);
  });

  it('a digest-only reference no build here knows: an error at its line and column, the file left as it was', async () => {
    const unknown = `${REPO}@sha256:${'ab'.repeat(32)}`;
    const before = ['spec:', '  containers:', '  - name: engine', '    image: gamelayer://server', '  - name: other', `    image: ${unknown}`, ''].join('\n');
    await writeFile(path.join(dir, 'other.yaml'), before);
    const r = await runCli(['k8s', '--fill', 'other.yaml', '--in-place', '--local'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[fill.unknown-digest]: other.yaml:6:12: ${unknown}: pinned by digest only`);
    expect(r.stderr).toContain('hint: write gamelayer://server or gamelayer://<tree> there');
    expect(await readFile(path.join(dir, 'other.yaml'), 'utf8')).toBe(before);
  });

  it('a manifest that is not UTF-8: refused with the byte offset, written nowhere (decoding would replace the bad bytes)', async () => {
    const before = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nspec:\n  containers:\n  - name: engine\n    image: gamelayer://server\n')]);
    await writeFile(path.join(dir, 'latin1.yaml'), before);
    const r = await runCli(['k8s', '--fill', 'latin1.yaml', '--in-place', '--local'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[fill.read]: latin1.yaml: not UTF-8 text (byte 5 is not valid UTF-8)');
    expect(Buffer.compare(await readFile(path.join(dir, 'latin1.yaml')), before)).toBe(0);
  });
});
