// The OS base image gets a security patch (a new digest under the same tag); later gamelayer.yaml pins the base by
// digest, to the image from before the patch. Each fresh-host build that changes the base under the game says so,
// whether the tag moved or the reference itself changed: a pin that rolls the patch back is never silent.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { sampleOnBase } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const registry = useRegistry();

/** A busybox layout whose config carries `base.revision`: another image on the same layer (a patched base). */
async function baseLayout(revision: string): Promise<{ dir: string; digest: string }> {
  const dir = path.join(await tempDir(), 'base');
  await writeBusyboxLayout(dir, { tag: 'busybox' });
  const indexFile = path.join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: { digest: string; size: number }[] };
  const blob = (d: string) => readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
  const put = async (bytes: Buffer) => {
    await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const manifest = JSON.parse((await blob(index.manifests[0]!.digest)).toString()) as { config: { digest: string; size: number } };
  const config = JSON.parse((await blob(manifest.config.digest)).toString()) as { config: { Labels?: Record<string, string> } };
  config.config.Labels = { ...config.config.Labels, 'base.revision': revision };
  const newManifest = await put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...(await put(Buffer.from(JSON.stringify(config)))) } })));
  await writeFile(indexFile, JSON.stringify({ ...index, manifests: [{ ...index.manifests[0], ...newManifest }] }));
  return { dir, digest: newManifest.digest };
}

/** A fresh host: a copy of the game with no .gamelayer, its baseImage set. */
const freshHost = (baseImage: string) => sampleOnBase(baseImage);

describe('a base image changed under the game is reported', () => {
  it('a tag that moved (security patch), then a pin by digest to the image from before it', async () => {
    const base = `${registry.host}/base/os`;
    const repo = `${registry.host}/studio/game`;
    const before = await baseLayout('1');
    const patched = await baseLayout('2');
    const push = (dir: string) => run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${dir}:busybox`, `docker://${base}:stable`]);
    await push(before.dir);
    const day1 = await runCli(['build', '--push', repo, '--tag', 'd1', '--line', 'main'], { cwd: await freshHost(`${base}:stable`) });
    expect(day1.code, day1.stderr).toBe(0);

    await push(patched.dir);
    const day2 = await runCli(['build', '--push', repo, '--tag', 'd2', '--line', 'main'], { cwd: await freshHost(`${base}:stable`) });
    expect(day2.code, day2.stderr).toBe(0);
    expect(day2.stderr).toContain(`warning: base image ${base}:stable (linux/amd64) moved since the previous build: ${before.digest} → ${patched.digest}`);

    // gamelayer.yaml now pins the base from before the patch: the images lose it, and the build says so.
    const pinned = `${base}@${before.digest}`;
    const host3 = await freshHost(pinned);
    const day3 = await runCli(['build', '--push', repo, '--tag', 'd3', '--line', 'main', '--json'], { cwd: host3 });
    expect(day3.code, day3.stderr).toBe(0);
    expect(day3.stderr).toContain(`warning: base image changed (linux/amd64): ${base}:stable (${patched.digest}) → ${pinned} since the previous build`);
    expect(JSON.parse(day3.stdout).summary.baseMoved).toEqual([{ platform: 'linux/amd64', ref: pinned, fromRef: `${base}:stable`, from: patched.digest, to: before.digest }]);
    expect(JSON.parse(day3.stdout).summary.built).toBe(0);

    // diff --against the patched build, from a host whose yaml pins the old base, reports the same change.
    const diff = await runCli(['diff', '--against', `${repo}:d2`], { cwd: host3 });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`base image changed (linux/amd64): ${base}:stable (${patched.digest}) → ${pinned}; a build makes new images on the same layers`);
    // The trees are the same, the images are not: a CI step that builds only on a change (--exit-code, `changed`)
    // must not skip an OS base update. It said "no changes", exit 0, changed: false.
    expect(diff.stdout).toContain('no changes in the trees');
    const code = await runCli(['diff', '--against', `${repo}:d2`, '--exit-code'], { cwd: host3 });
    expect(code.code, code.stderr).toBe(3);
    const json = await runCli(['diff', '--against', `${repo}:d2`, '--json'], { cwd: host3 });
    expect(JSON.parse(json.stdout)).toMatchObject({ changed: true, trees: expect.any(Array), baseMoved: [{ platform: 'linux/amd64', from: patched.digest, to: before.digest }] });

    // Pinning the digest the tag names now changes nothing under the game: no warning.
    const day4 = await runCli(['build', '--push', repo, '--tag', 'd4', '--line', 'main'], { cwd: await freshHost(pinned) });
    expect(day4.code, day4.stderr).toBe(0);
    expect(day4.stderr).not.toContain('base image');
  }, 300_000);
});
