// A local base image (docker-archive:FILE, oci:DIR) is named gamelayer-base/<game>:<hash> in the emitted
// Dockerfiles, a name only `build --builder docker` loads into the daemon. `gamelayer dockerfile --context - | docker
// build -` (docs/docker.md) then failed on Docker Hub ("no such host" offline, "pull access denied" online) while the
// Dockerfile's comment said the base was "loaded into the daemon as" that name, and the command said nothing. It now
// warns with the commands that load it under that name; run as printed, they make the docker build (BuildKit) pass.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { busyboxImage, removeImages, runImage, saveImage } from './support/docker-images.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { copySample, sampleYamlOn } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const created: string[] = [];
afterAll(() => removeImages(created));

let dir: string;
let sampleYaml: string;
beforeAll(async () => {
  dir = await tempDir('gl-df-base-');
  copySample(path.join(dir, 'game'));
  sampleYaml = await readFile(path.join(dir, 'game', 'gamelayer.yaml'), 'utf8');
});

async function dockerfileOn(base: string): Promise<{ warnings: string[]; name: string; dockerfile: string }> {
  await writeFile(path.join(dir, 'game', 'gamelayer.yaml'), sampleYamlOn(sampleYaml, base));
  const r = await runCli(['dockerfile', '--docker-compat', '--out', '../df', '--context', '../ctx.tar', '--force'], { cwd: path.join(dir, 'game') });
  expect(r.code, r.stderr).toBe(0);
  const dockerfile = await readFile(path.join(dir, 'df', 'Dockerfile'), 'utf8');
  const name = /^ARG BASE_IMAGE=(\S+)$/m.exec(dockerfile)![1]!;
  return { warnings: r.stderr.split('\n').filter((l) => l.startsWith('warning:')), name, dockerfile };
}

describe('gamelayer dockerfile with a local base image', () => {
  it('docker-archive: says to docker load and tag it; done so, a BuildKit docker build of the context runs the server', async () => {
    const archive = await saveImage(await busyboxImage(), dir);
    const { warnings, name, dockerfile } = await dockerfileOn(`docker-archive:${archive}`);
    expect(name).toMatch(/^gamelayer-base\/sample-game:[0-9a-f]{12}$/);
    expect(warnings).toEqual([
      `warning: ${path.join(dir, 'game', 'gamelayer.yaml')}: baseImage: docker-archive:${archive} is a local image, which the Dockerfiles name ${name}: ` +
        'docker build looks that name up in the daemon, then on Docker Hub; load it under that name first: ' +
        `docker load -i ${archive}, then docker tag <the image it loaded> ${name}; gamelayer build --builder docker loads it so itself, or pass --build-arg BASE_IMAGE=<an image the daemon has>`,
    ]);
    expect(dockerfile).not.toContain('loaded into the daemon');

    const loaded = /Loaded image: (\S+)/.exec(execFileSync('docker', ['load', '-i', archive], { encoding: 'utf8' }))![1]!;
    execFileSync('docker', ['tag', loaded, name]);
    created.push(name, 'gl-test/df-local-base:t1');
    execFileSync('/usr/bin/docker', ['build', '-q', '-t', 'gl-test/df-local-base:t1', '-'], {
      input: await readFile(path.join(dir, 'ctx.tar')),
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      maxBuffer: 64 << 20,
    });
    const ran = await runImage('gl-test/df-local-base:t1');
    expect(ran.output).toContain('sample-game: all four trees verified');
    expect(ran.code).toBe(0);
  });

  it('oci: the skopeo command it prints puts the base into the daemon under the Dockerfiles\' name', async () => {
    const base = await writeBusyboxLayout(path.join(dir, 'layout'));
    const { warnings, name } = await dockerfileOn(base);
    expect(warnings).toHaveLength(1);
    const command = /load it under that name first: (skopeo copy \S+ docker-daemon:\S+);/.exec(warnings[0]!)?.[1];
    expect(command).toBe(`skopeo copy ${base} docker-daemon:${name}`);
    created.push(name);
    execFileSync('sh', ['-c', command!]);
    expect(execFileSync('docker', ['image', 'inspect', '--format', '{{len .RootFS.Layers}}', name], { encoding: 'utf8' }).trim()).toBe('1');
  });
});
