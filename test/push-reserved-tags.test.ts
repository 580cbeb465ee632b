// One image pushed with tags of the user's choosing may not take a tag that names something else of gamelayer's.
// `push REPO:1.0.0 --also-tag 1.0.0.gamelayer-record` put the server image where the build record of 1.0.0 was (inspect
// then failed: "not a gamelayer build record"), and `--also-tag 1.0.0-app` replaced the build's app image with the
// server image. Both are refused before anything is sent; the registry keeps the record and the tree image.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import path from 'node:path';

let reg: TestRegistry;
let game: string;
beforeAll(async () => {
  reg = await startRegistry();
  game = path.join(await tempDir(), 'game');
  copySample(game);
  const built = await runCli(['build'], { cwd: game });
  expect(built.code, built.stderr).toBe(0);
  const pushed = await runCli(['push', `${reg.host}/studio/game:1.0.0`], { cwd: game });
  expect(pushed.code, pushed.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await reg?.stop();
});

const digestOf = async (tag: string) =>
  (await fetch(`${reg.url}/v2/studio/game/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest');

describe('push refuses the tags gamelayer owns', () => {
  it.each([
    [['--also-tag', '1.0.0.gamelayer-record'], 'the tag 1.0.0.gamelayer-record is gamelayer\'s: it names the build record of 1.0.0'],
    [['--also-tag', 'gamelayer-line.default'], 'it names the newest build record of the line default'],
    [['--also-tag', `sha256-${'a'.repeat(64)}.sig`], `it names a signature, SBOM or referrers list of the image sha256:${'a'.repeat(64)}`],
    [['--also-tag', '1.0.0-app'], 'the tag 1.0.0-app is the app image of the build 1.0.0'],
    [['--also-tag', '1.0.0-engine-media'], 'the tag 1.0.0-engine-media is the engine-media image of the build 1.0.0'],
  ])('%j', async (flags, message) => {
    const before = await Promise.all(['1.0.0.gamelayer-record', '1.0.0-app', '1.0.0-engine-media', 'gamelayer-line.default'].map(digestOf));
    const r = await runCli(['push', `${reg.host}/studio/game:1.0.0`, ...flags], { cwd: game });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[push.reserved-tag]');
    expect(r.stderr).toContain(message);
    expect(await Promise.all(['1.0.0.gamelayer-record', '1.0.0-app', '1.0.0-engine-media', 'gamelayer-line.default'].map(digestOf))).toEqual(before);
  });

  it('the destination tag is held to the same rule', async () => {
    const r = await runCli(['push', `${reg.host}/studio/game:1.0.0.gamelayer-record`, '--image', '1.0.0'], { cwd: game });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[push.reserved-tag]: push ');
  });

  it('a tree image under its own tag, and other tags, still push', async () => {
    const tree = await runCli(['push', `${reg.host}/studio/game:1.0.0-app`, '--image', '1.0.0-app'], { cwd: game });
    expect(tree.code, tree.stderr).toBe(0);
    const latest = await runCli(['push', `${reg.host}/studio/game:1.0.0`, '--also-tag', 'latest'], { cwd: game });
    expect(latest.code, latest.stderr).toBe(0);
    expect(await digestOf('latest')).toBe(await digestOf('1.0.0'));
    const inspect = await runCli(['inspect', `${reg.host}/studio/game:1.0.0`], { cwd: game });
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it.each(['1.0.0.gamelayer-record', 'gamelayer-line.main', `sha256-${'b'.repeat(64)}`])('build --tag %s is refused before any work', async (tag) => {
    const r = await runCli(['build', '--tag', tag], { cwd: game });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[build.bad-tag]: --tag "${tag}": a tag of gamelayer's own form (it names `);
  });
});
