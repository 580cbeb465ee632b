// A rollback from CI runs on a fresh host: no record of the older build on disk. `k8s`, `ecs` and `codebuild
// imagedefinitions` take `--record host/repo:tag` and read that build's record from the repository, pinning its
// images by digest as a local record would. Real registry, real CLI.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

async function freshHost(changes: Record<string, number> = {}): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  for (const [file, size] of Object.entries(changes)) await writeFile(path.join(dir, file), Buffer.alloc(size, file.length));
  return dir;
}

type Images = { name: string; digest: string; platform?: string }[];
/** The digests images are pinned by (`…@sha256:…`; a spec also names tree digests, which are no images). */
const digestsIn = (text: string) => [...new Set([...text.matchAll(/@(sha256:[a-f0-9]{64})/g)].map((m) => m[1]!))];

describe('deploy specs of a pushed build, from a fresh host', () => {
  it('k8s, ecs and codebuild imagedefinitions --record REPO:TAG pin that build\'s images; an unknown tag is an error', async () => {
    const repo = `${registry.host}/studio/rollback`;
    const v1 = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main', '--json'], { cwd: await freshHost() });
    expect(v1.code, v1.stderr).toBe(0);
    const v2 = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main', '--json'], { cwd: await freshHost({ 'app-media/levels/day2.dat': 20_000 }) });
    expect(v2.code, v2.stderr).toBe(0);
    const images1 = (JSON.parse(v1.stdout) as { images: Images }).images;
    const images2 = (JSON.parse(v2.stdout) as { images: Images }).images;

    // A fresh host has no record: without --record, k8s has nothing to deploy.
    const host = await freshHost();
    const none = await runCli(['k8s', '--repository', repo], { cwd: host });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no build yet');

    // Every image a spec pins is v1's, pinned by digest under the repository; none is only v2's (its server image
    // and its app-media tree changed).
    const onlyV2 = images2.map((i) => i.digest).filter((d) => !images1.some((i) => i.digest === d));
    expect(onlyV2.length).toBeGreaterThan(0);
    const pinsV1 = (stdout: string) => {
      const pinned = digestsIn(stdout);
      expect(pinned.length).toBeGreaterThan(0);
      expect(pinned.filter((d) => !images1.some((i) => i.digest === d))).toEqual([]);
      for (const d of pinned) expect(stdout).toMatch(new RegExp(`${repo.replace(/[.]/g, '\\.')}(:v1(-[a-z-]+)?)?@${d}`));
    };
    const server = images1.find((i) => i.name === 'server')!.digest;
    const k8s = await runCli(['k8s', '--record', `${repo}:v1`], { cwd: host });
    expect(k8s.code, k8s.stderr).toBe(0);
    pinsV1(k8s.stdout);
    expect(k8s.stdout).toContain(`${repo}:v1@${server}`);

    const ecs = await runCli(['ecs', '--record', `${repo}:v1`], { cwd: host });
    expect(ecs.code, ecs.stderr).toBe(0);
    pinsV1(ecs.stdout);

    const defs = await runCli(['codebuild', 'imagedefinitions', '--record', `${repo}:v1`], { cwd: host });
    expect(defs.code, defs.stderr).toBe(0);
    pinsV1(defs.stdout);

    // Another repository than the record's: a record read from one repository knows nothing of another (the build
    // may be there too: a push to several regions), so it is refused, pointing at the record in that repository
    // (it said "never pushed to …" and "push it first", which a fresh host cannot do and may be untrue).
    const other = `${registry.host}/studio/other`;
    const elsewhere = await runCli(['k8s', '--record', `${repo}:v1`, '--repository', other], { cwd: host });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain(`error[deploy.not-pushed]: ${repo}:v1: build v1 of sample-game: a record read from ${repo} says nothing of ${other}`);
    expect(elsewhere.stderr).toContain(`hint: read the record where the nodes pull from: --record ${other}:v1 (it is there if the build was pushed there)`);
    const v1Host = await freshHost();
    expect((await runCli(['build', '--push', repo, '--push', other, '--tag', 'v1', '--line', 'main', '--from', 'none'], { cwd: v1Host })).code).toBe(0);
    const there = await runCli(['k8s', '--record', `${other}:v1`], { cwd: host });
    expect(there.code, there.stderr).toBe(0);
    expect(digestsIn(there.stdout).sort()).toEqual(digestsIn((await runCli(['k8s', '--record', `${repo}:v1`], { cwd: host })).stdout).sort());

    const missing = await runCli(['k8s', '--record', `${repo}:v9`], { cwd: host });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('v9');
  }, 300_000);

  // An image deleted from the repository after the push (by hand, a lifecycle rule): the record read from there still
  // names it, and the spec pinned it without a word (a node would fail with ErrImagePull). Each image is asked now.
  it('an image gone from the repository since the push is refused, naming it', async () => {
    const repo = `${registry.host}/studio/gone`;
    const v1 = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: await freshHost() });
    expect(v1.code, v1.stderr).toBe(0);
    const v2 = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main', '--json'], { cwd: await freshHost({ 'app-media/levels/day2.dat': 20_000 }) });
    expect(v2.code, v2.stderr).toBe(0);
    const media = (JSON.parse(v2.stdout) as { images: Images }).images.find((i) => i.name === 'app-media' && i.platform === undefined) ?? (JSON.parse(v2.stdout) as { images: Images }).images.find((i) => i.name === 'app-media')!;
    expect((await fetch(`http://${registry.host}/v2/studio/gone/manifests/${media.digest}`, { method: 'DELETE' })).status).toBe(202);

    const host = await freshHost();
    const k8s = await runCli(['k8s', '--record', `${repo}:v2`], { cwd: host });
    expect(k8s.code).toBe(1);
    expect(k8s.stderr).toContain(`error[deploy.not-pushed]: ${repo}:v2: build v2 of sample-game: image app-media is no longer in ${repo} (deleted since the push?); a node would fail with ErrImagePull`);
    expect(k8s.stderr).toContain(`hint: push the build again from a host holding it (gamelayer push ${repo}:v2), or deploy another build (gamelayer ls ${repo} lists them)`);
    // The build whose images are all there deploys; --local skips the check as ever.
    expect((await runCli(['k8s', '--record', `${repo}:v1`], { cwd: host })).code).toBe(0);
    expect((await runCli(['k8s', '--record', `${repo}:v2`, '--local'], { cwd: host })).code).toBe(0);
  }, 300_000);
});
