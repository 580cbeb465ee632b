// build --push --sbom with a baseImage in a registry (the studio's OS image kept beside the game) pushed every image,
// then failed making the SBOM: "base image … is in a registry: this command reads local bases only", with a hint to
// use gamelayer build, the command that failed. The SBOM now names the base as the build pinned it (the record's
// `bases` digest, the server image's first layers), and verify --require-sbom passes.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusyboxBase } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { sampleOnBase } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
let reg: TestRegistry;
let dir: string;
beforeAll(async () => {
  reg = await startRegistry();
  await pushBusyboxBase(`${reg.host}/base/os:stable`);
  dir = await sampleOnBase(`${reg.host}/base/os:stable`, 'gl-sbom-base-game-');
}, 60_000);
afterAll(async () => {
  await reg?.stop();
});

describe('SBOM of a build on a registry base image', () => {
  it('is attached, names the pinned base, and verifies', async () => {
    const keys = await tempDir('gl-sbom-base-keys-');
    await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(keys, 'key.pem')]);
    await run('openssl', ['ec', '-in', path.join(keys, 'key.pem'), '-pubout', '-out', path.join(keys, 'pub.pem')]);
    const repo = `${reg.host}/studio/game`;
    const b = await runCli(['build', '--tag', 'v1', '--push', repo, '--sbom', '--sign', path.join(keys, 'key.pem')], { cwd: dir });
    expect(b.stderr).not.toContain('error');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^SBOM sha256:[a-f0-9]{64}: /m);
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as {
      bases: { platform: string; digest: string; layers: number }[];
      images: { name: string; platform?: string; layers?: { digest: string }[] }[];
    };
    const pinned = record.bases[0]!;
    const server = record.images.find((i) => i.name === 'server' && i.platform === pinned.platform)!;
    const sbom = await runCli(['sbom', `${repo}:v1`, '--key', path.join(keys, 'pub.pem')], { cwd: dir });
    expect(sbom.code, sbom.stderr).toBe(0);
    const doc = JSON.parse(sbom.stdout) as { components: { type: string; name: string; version?: string; properties?: { name: string; value: string }[] }[] };
    const base = doc.components.filter((c) => c.type === 'container');
    expect(base.map((c) => [c.name, c.version])).toEqual([[`${reg.host}/base/os:stable`, pinned.digest]]);
    // Its layers are the server image's first ones, as many as the record pinned.
    const layerProps = JSON.stringify(base[0]!.properties ?? []);
    for (const l of server.layers!.slice(0, pinned.layers)) expect(layerProps).toContain(l.digest);
    const v = await runCli(['verify', `${repo}:v1`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
  }, 240_000);
});
