// A build with zstd layers given to run-local (Docker 20.10's load cannot read zstd) was refused naming the image by
// its digest alone (`image sha256:…`): which of the five images, and of which build, was left to find out. The
// refusal names the image by its tag (`z1-engine`), with the digest; load, which reads the store by tag, says the tag.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeBusyboxGame } from './support/busybox-layout.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-run-zstd-');
  await writeBusyboxGame(dir, 'run-zstd', 'echo up\n', ['layers: {compression: zstd}']);
  const b = await runCli(['build', '--tag', 'z1'], { cwd: dir });
  expect(b.code, b.stderr).toBe(0);
}, 120_000);

describe('zstd layers refused for the Docker daemon', () => {
  it('run-local names the image by its tag and digest', async () => {
    const r = await runCli(['run-local', '--tag', 'z1'], { cwd: dir });
    expect(r.stderr).toMatch(/^error\[load\.layer-type\]: image z1-engine \(sha256:[0-9a-f]{64}\): layer sha256:[0-9a-f]{64} is application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd, which docker load/m);
    expect(r.code).not.toBe(0);
  });

  it('load names it by its tag', async () => {
    const r = await runCli(['load', '--tag', 'z1'], { cwd: dir });
    expect(r.stderr).toMatch(/^error\[load\.layer-type\]: image z1: layer sha256:[0-9a-f]{64} is application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/m);
    expect(r.code).not.toBe(0);
  });
});
