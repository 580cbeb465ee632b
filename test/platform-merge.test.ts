// Issue 21: per-platform builds that merge. Two processes with separate state folders (two hosts) build
// linux/amd64 and linux/arm64 of a two-platform game against one real registry; `gamelayer index` assembles the
// multi-platform indexes and the merged record. skopeo reads the indexes, containerd pulls each platform; the media
// layers go up once; a missing platform build or media trees that differ stop the merge before anything is put.
import { execFile, spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchLineRecord } from '../src/index.js';
import { parseBuildspec, type Buildspec } from '../src/codebuild/buildspec-schema.js';
import { runCli } from './support/cli-process.js';
import { startContainerd, type PrivateContainerd } from './support/private-containerd.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { useTwoPlatformSample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
let registry: TestRegistry;
let containerd: PrivateContainerd;
// The two-platform sample: per-platform engine sources, shared media.
const sample = useTwoPlatformSample();

beforeAll(async () => {
  registry = await startRegistry();
  containerd = await startContainerd();
}, 120_000);
afterAll(async () => {
  await containerd?.stop();
  await registry?.stop();
});

/** A host of its own: a copy of the game folder with its own (empty) .gamelayer/. */
async function host(): Promise<string> {
  const dir = await tempDir();
  await cp(sample.dir, dir, { recursive: true });
  return dir;
}

async function cli(dir: string, ...args: string[]) {
  const r = await runCli(args, { cwd: dir });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
}

interface BuildJson {
  images: { name: string; platform?: string; digest: string }[];
  push: { images: { uploaded: string[] }[] };
}
const inspectRaw = async (ref: string) => JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
const layersOf = async (dir: string, tag: string, trees: string[]) => {
  const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records', `build-${tag}.json`), 'utf8')) as { layers: { tree: string; digest: string }[] };
  return record.layers.filter((l) => trees.includes(l.tree)).map((l) => l.digest);
};

describe('gamelayer index: builds of one platform each, on separate hosts, merged', () => {
  it('two hosts push their platform; the merge puts the indexes and record; media bytes go up once; each platform pulls', async () => {
    const name = `studio/platforms-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const amdHost = await host();
    const armHost = await host();
    const amd = JSON.parse((await cli(amdHost, 'build', '--platform', 'linux/amd64', '--tag', 'v1', '--push', repo, '--line', 'main', '--json')).stdout) as BuildJson;
    const arm = JSON.parse((await cli(armHost, 'build', '--platform', 'linux/arm64', '--tag', 'v1', '--push', repo, '--line', 'main', '--json')).stdout) as BuildJson;

    // Each platform build tags itself <tag>-<os>-<arch>; neither takes the merged tags nor moves the line.
    expect(await tags(name)).toEqual(
      ['v1-linux-amd64', 'v1-linux-arm64'].flatMap((t) => [t, `${t}-app`, `${t}-app-media`, `${t}-engine`, `${t}-engine-media`, `${t}.gamelayer-record`]).sort(),
    );

    // The media layers: the same digests on both hosts, uploaded by the first and never by the second.
    const media = await layersOf(amdHost, 'v1-linux-amd64', ['engine-media', 'app-media']);
    expect(media.length).toBeGreaterThan(1);
    expect(await layersOf(armHost, 'v1-linux-arm64', ['engine-media', 'app-media'])).toEqual(media);
    const upAmd = amd.push.images.flatMap((i) => i.uploaded);
    const upArm = arm.push.images.flatMap((i) => i.uploaded);
    expect(media.filter((d) => !upAmd.includes(d))).toEqual([]);
    expect(upArm.filter((d) => media.includes(d))).toEqual([]);
    // The registry's own account: one completed upload per media blob over both builds.
    const sent = await registry.uploadedBlobs();
    for (const d of media) expect(`${d}: ${sent.filter((x) => x === d).length}`).toBe(`${d}: 1`);

    // The merge, on a third host with no local state.
    const mergeHost = await host();
    const merged = JSON.parse((await cli(mergeHost, 'index', repo, '--tag', 'v1', '--line', 'main', '--json')).stdout) as {
      indexes: { name: string; tag: string; digest: string }[];
    };
    const serverOf = (b: BuildJson, p: string) => b.images.find((i) => i.name === 'server' && i.platform === p)!.digest;
    const raw = await inspectRaw(`${repo}:v1`);
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(raw.manifests.map((m: { digest: string; platform: { os: string; architecture: string } }) => `${m.platform.os}/${m.platform.architecture} ${m.digest}`)).toEqual([
      `linux/amd64 ${serverOf(amd, 'linux/amd64')}`,
      `linux/arm64 ${serverOf(arm, 'linux/arm64')}`,
    ]);
    expect(merged.indexes.find((i) => i.name === 'server')!.digest).toBe((await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${repo}:v1`])).stdout.trim());
    for (const tree of ['engine', 'engine-media', 'app', 'app-media']) {
      const treeIndex = await inspectRaw(`${repo}:v1-${tree}`);
      expect(treeIndex.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    }

    // The merged record: both platforms, the server index, and the line's tag moved to it.
    const line = await fetchLineRecord(repo, 'main');
    expect(line!.record.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(line!.record.index).toBe(merged.indexes.find((i) => i.name === 'server')!.digest);
    expect(line!.record.tags).toEqual(['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media']);

    // containerd pulls each platform from the merged index: exactly that platform's manifest comes down.
    for (const [platform, digest] of [['linux/amd64', serverOf(amd, 'linux/amd64')], ['linux/arm64', serverOf(arm, 'linux/arm64')]] as const) {
      const other = platform === 'linux/amd64' ? serverOf(arm, 'linux/arm64') : serverOf(amd, 'linux/amd64');
      await containerd.ctr('images', 'pull', '--plain-http', '--platform', platform, `${repo}:v1`);
      const content = await containerd.ctr('content', 'ls', '-q');
      expect(content).toContain(digest);
      if (platform === 'linux/amd64') expect(content).not.toContain(other);
      await containerd.ctr('images', 'rm', `${repo}:v1`);
    }

    // The next platform build plans on the merged record: nothing changed, every layer is kept and nothing is sent.
    const again = await cli(armHost, 'build', '--platform', 'linux/arm64', '--tag', 'v2', '--push', repo, '--line', 'main', '--json');
    const againJson = JSON.parse(again.stdout) as BuildJson & { summary: { previous: { ref: string }; layers: { tree: string; reused: boolean }[] } };
    expect(againJson.summary.previous.ref).toBe(`${repo}:gamelayer-line.main`);
    expect(againJson.summary.layers.filter((l) => !l.reused)).toEqual([]);
    expect(againJson.push.images.flatMap((i) => i.uploaded).filter((d) => media.includes(d))).toEqual([]);
  }, 600_000);

  it('two hosts building at the same moment with --media-wait split the shared media layers: each blob goes up once', async () => {
    const name = `studio/platforms-together-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const [amdHost, armHost] = [await host(), await host()];
    const both = await Promise.all(
      (['linux/amd64', 'linux/arm64'] as const).map((p, i) =>
        cli([amdHost, armHost][i]!, 'build', '--platform', p, '--tag', 'v1', '--push', repo, '--line', 'main', '--media-wait', '2m', '--json'),
      ),
    );
    const [amd, arm] = both.map((r) => JSON.parse(r.stdout) as BuildJson);
    const media = await layersOf(amdHost, 'v1-linux-amd64', ['engine-media', 'app-media']);
    expect(media.length).toBeGreaterThan(1);
    const upAmd = amd!.push.images.flatMap((i) => i.uploaded).filter((d) => media.includes(d));
    const upArm = arm!.push.images.flatMap((i) => i.uploaded).filter((d) => media.includes(d));
    // Each host sent its own share, and together they sent every media blob once.
    expect(upAmd.length).toBeGreaterThan(0);
    expect(upArm.length).toBeGreaterThan(0);
    expect([...upAmd, ...upArm].sort()).toEqual([...media].sort());
    const sent = await registry.uploadedBlobs(name);
    for (const d of media) expect(`${d}: ${sent.filter((x) => x === d).length}`).toBe(`${d}: 1`);
  }, 600_000);

  it('refuses a merge with a platform build missing, naming the platform; nothing is put', async () => {
    const name = `studio/platforms-missing-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    await cli(await host(), 'build', '--platform', 'linux/amd64', '--tag', 'v3', '--push', repo, '--line', 'main');
    const before = await tags(name);
    const r = await runCli(['index', repo, '--tag', 'v3', '--line', 'main'], { cwd: await host() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[index.platform-missing]');
    expect(r.stderr).toContain(`${repo}:v3-linux-arm64: no build of linux/arm64`);
    expect(await tags(name)).toEqual(before);
  }, 300_000);

  it('refuses to merge platform builds whose media trees differ, naming the tree; nothing is put', async () => {
    const name = `studio/platforms-media-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    await cli(await host(), 'build', '--platform', 'linux/amd64', '--tag', 'v4', '--push', repo, '--line', 'main');
    const other = await host();
    await writeFile(path.join(other, 'app-media/extra-level.pak'), 'a level only one host has\n');
    await cli(other, 'build', '--platform', 'linux/arm64', '--tag', 'v4', '--push', repo, '--line', 'main');
    const before = await tags(name);
    const r = await runCli(['index', repo, '--tag', 'v4', '--line', 'main'], { cwd: await host() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[index.media-differs]');
    expect(r.stderr).toMatch(/app-media: the linux\/amd64 build \(v4-linux-amd64\) has tree \S+, the linux\/arm64 build \(v4-linux-arm64\) has/);
    expect(await tags(name)).toEqual(before);
    expect(before).not.toContain('v4');
    expect(before).not.toContain('gamelayer-line.main');
  }, 300_000);
});

/** One job of a batch buildspec, run as CodeBuild runs it: pre_build, build, post_build in one bash on its own host. */
async function runJob(spec: Buildspec, job: string, src: string, bin: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const graph = spec.batch!['build-graph'].find((j) => j.identifier === job)!;
  const lines: string[] = [];
  for (const phase of ['pre_build', 'build', 'post_build'] as const) {
    for (const command of spec.phases[phase]?.commands ?? []) lines.push(command, `rc=$?; if [ $rc -ne 0 ]; then echo "[${phase}] failed with $rc" >&2; exit $rc; fi`);
  }
  // Outside the source folder (the job must not see it), in a temp folder removed with the others.
  const script = path.join(await tempDir('gl-phases-'), 'phases.sh');
  await writeFile(script, `${lines.join('\n')}\n`);
  return new Promise((resolve) => {
    const child = spawn('bash', [script], {
      cwd: src,
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: src, CODEBUILD_SRC_DIR: src, CODEBUILD_BUILD_ID: `game:${job}`, ...spec.env?.variables, ...graph.env?.variables, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the batch buildspec\'s graph, run here: platform jobs at once on separate hosts, then the merge job', () => {
  it('each platform job pushes its platform, the merge job the indexes, the record and the deploy artifacts', async () => {
    const name = `studio/platforms-batch-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const specText = (await cli(sample.dir, 'codebuild', 'buildspec', '--batch')).stdout;
    const spec = parseBuildspec(specText, 'buildspec-batch.yml');
    const bin = await tempDir();
    await writeFile(path.join(bin, 'gamelayer'), `#!/bin/sh\nexec "${process.execPath}" "${path.resolve('bin/gamelayer.js')}" "$@"\n`, { mode: 0o755 });
    const env = { REPOSITORY_URI: repo, CODEBUILD_RESOLVED_SOURCE_VERSION: 'c0ffee12aa34bb56cc78dd90ee12ff34aa56bb78', GAMELAYER_LINE: 'main' };
    const hosts = { build_linux_amd64: await host(), build_linux_arm64: await host(), merge: await host() };
    const platformJobs = await Promise.all((['build_linux_amd64', 'build_linux_arm64'] as const).map((j) => runJob(spec, j, hosts[j], bin, env)));
    for (const r of platformJobs) expect(r.code, r.stderr).toBe(0);
    const merge = await runJob(spec, 'merge', hosts.merge, bin, env);
    expect(merge.code, merge.stderr).toBe(0);

    const raw = await inspectRaw(`${repo}:c0ffee12`);
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const defs = JSON.parse(await readFile(path.join(hosts.merge, 'gamelayer-out/imagedefinitions.json'), 'utf8')) as { imageUri: string }[];
    expect(defs.length).toBeGreaterThan(0);
    const merged = JSON.parse(await readFile(path.join(hosts.merge, 'gamelayer-out/gamelayer-build-record.json'), 'utf8')) as {
      platforms: string[];
      index: string;
      images: { name: string; platform?: string; digest: string }[];
    };
    expect(merged.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(merged.index).toBe((await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${repo}:c0ffee12`])).stdout.trim());
    // The deploy artifacts name the multi-platform indexes, by digest.
    const indexes = new Map(merged.images.filter((i) => !i.platform).map((i) => [i.name, i.digest]));
    for (const d of defs) {
      const m = new RegExp(`^${repo.replace(/[.]/g, '\\.')}:c0ffee12(?:-([a-z-]+))?@(sha256:[0-9a-f]{64})$`).exec(d.imageUri);
      expect(m, d.imageUri).not.toBeNull();
      expect(m![2]).toBe(indexes.get(m![1] ?? 'server'));
    }
    for (const j of ['build_linux_amd64', 'build_linux_arm64'] as const) {
      const rec = JSON.parse(await readFile(path.join(hosts[j], 'gamelayer-out/gamelayer-build-record.json'), 'utf8')) as { platforms: string[]; tags: string[] };
      expect(rec.tags[0]).toBe(`c0ffee12-${j.slice('build_'.length).replace('_', '-')}`);
    }
  }, 600_000);

  it('with --region-also: each platform job pushes to both regions (each media blob up once in each), the merge job merges in each and pins each region\'s artifacts to its copy', async () => {
    const away = await startRegistry();
    try {
      const name = `studio/platforms-regions-${process.pid}`;
      const [homeRepo, awayRepo] = [`${registry.host}/${name}`, `${away.host}/${name}`];
      const spec = parseBuildspec((await cli(sample.dir, 'codebuild', 'buildspec', '--batch', '--region-also', 'eu-west-1')).stdout, 'buildspec-batch.yml');
      const bin = await tempDir();
      await writeFile(path.join(bin, 'gamelayer'), `#!/bin/sh\nexec "${process.execPath}" "${path.resolve('bin/gamelayer.js')}" "$@"\n`, { mode: 0o755 });
      const env = { REPOSITORY_URI: homeRepo, REPOSITORY_URI_EU_WEST_1: awayRepo, CODEBUILD_RESOLVED_SOURCE_VERSION: 'beef1234aa34bb56cc78dd90ee12ff34aa56bb78', GAMELAYER_LINE: 'main' };
      const hosts = { build_linux_amd64: await host(), build_linux_arm64: await host(), merge: await host() };
      const platformJobs = await Promise.all((['build_linux_amd64', 'build_linux_arm64'] as const).map((j) => runJob(spec, j, hosts[j], bin, env)));
      for (const r of platformJobs) expect(r.code, r.stderr).toBe(0);
      const merge = await runJob(spec, 'merge', hosts.merge, bin, env);
      expect(merge.code, merge.stderr).toBe(0);

      // The same indexes in both regions.
      const digestOf = async (ref: string) => (await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`])).stdout.trim();
      const [homeIndex, awayIndex] = [await digestOf(`${homeRepo}:beef1234`), await digestOf(`${awayRepo}:beef1234`)];
      expect(awayIndex).toBe(homeIndex);
      expect((await inspectRaw(`${awayRepo}:beef1234`)).manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
      // The shared media split between the two jobs in each region: each media blob completed once per registry.
      const media = await layersOf(hosts.build_linux_amd64, 'beef1234-linux-amd64', ['engine-media', 'app-media']);
      expect(media.length).toBeGreaterThan(1);
      for (const r of [registry, away]) {
        const sent = await r.uploadedBlobs(name);
        for (const d of media) expect(`${r.host} ${d}: ${sent.filter((x) => x === d).length}`).toBe(`${r.host} ${d}: 1`);
      }
      // Each region's deploy artifacts name its copy, by the index digests.
      const out = path.join(hosts.merge, 'gamelayer-out');
      const uris = async (file: string) => (JSON.parse(await readFile(path.join(out, file), 'utf8')) as { imageUri: string }[]).map((d) => d.imageUri);
      const [homeDefs, awayDefs] = [await uris('imagedefinitions.json'), await uris('imagedefinitions-eu-west-1.json')];
      expect(homeDefs.length).toBeGreaterThan(0);
      for (const u of homeDefs) expect(u.startsWith(`${homeRepo}:beef1234`)).toBe(true);
      expect(awayDefs).toEqual(homeDefs.map((u) => u.replace(homeRepo, awayRepo)));
      const awayPod = await readFile(path.join(out, 'k8s-out/eu-west-1/pod.yaml'), 'utf8');
      expect(awayPod).toContain(`${awayRepo}:beef1234@${homeIndex}`);
      expect(awayPod).not.toContain(registry.host);
    } finally {
      await away.stop();
    }
  }, 600_000);
});

