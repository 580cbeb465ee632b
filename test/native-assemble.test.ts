// The native assembler (native/, docs/chunks.md "The native assembler"): the committed binaries are exactly what
// scripts/build-native.sh makes from native/*.c with the Debian toolchains services.sh installs; their bytes are the
// ones src/oci/assembler.ts pins; the host's binary hashes like node's sha256 with both its hash codes; and a chunked
// build puts the image platform's binary into the tree image's marker layer only (mode 755, same digest every build).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { ASSEMBLER_PATH, ASSEMBLER_PROBE, assemblerBytes, assemblerFor } from '../src/oci/assembler.js';
import { build } from '../src/pipeline/build.js';
import { tempDir } from './support/tmp.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const HOST = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;

describe('native assembler binaries', () => {
  it('rebuild from native/*.c to the committed bytes (scripts/build-native.sh --check)', () => {
    const r = spawnSync('bash', [path.join(ROOT, 'scripts/build-native.sh'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('gamelayer-assemble-linux-amd64: identical to the committed binary\ngamelayer-assemble-linux-arm64: identical to the committed binary\n');
    expect(r.status).toBe(0);
  }, 120_000);

  it('are the bytes src/oci/assembler.ts pins, one per platform it knows', async () => {
    for (const [platform, machine] of [['linux/amd64', 0x3e], ['linux/arm64', 0xb7], ['linux/arm64/v8', 0xb7]] as const) {
      const bytes = await assemblerBytes(platform)!;
      expect(bytes.subarray(0, 4).toString('latin1'), platform).toBe('\x7fELF');
      expect(bytes.readUInt16LE(18), platform).toBe(machine); // e_machine: x86-64 / AArch64
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(assemblerFor(platform)!.sha256);
    }
    for (const none of ['linux/arm/v7', 'linux/386', 'windows/amd64', 'linux/arm64/v9']) expect(assemblerFor(none), none).toBeUndefined();
  });

  it("the host's binary answers --probe and hashes as node does, with the CPU's hash code and the portable one", () => {
    const bin = assemblerFor(HOST)!.path;
    const probe = execFileSync(bin, ['--probe'], { encoding: 'utf8' });
    expect(probe).toMatch(new RegExp(`^${ASSEMBLER_PROBE} (sha-ni|armv8-ce|c)\\n$`));
    expect(execFileSync(bin, ['--probe'], { encoding: 'utf8', env: { GAMELAYER_ASSEMBLE_HASH: 'c' } })).toBe(`${ASSEMBLER_PROBE} c\n`);
    // Every padding case (55/56/63/64/65 bytes around a block) and multi-block inputs.
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 4096, 1_048_577]) {
      const input = Buffer.alloc(n);
      for (let i = 0; i < n; i++) input[i] = (i * 131 + (i >> 8)) & 255;
      const want = `${createHash('sha256').update(input).digest('hex')}\n`;
      expect(execFileSync(bin, ['--sha256'], { input, encoding: 'utf8' }), `${n} bytes`).toBe(want);
      expect(execFileSync(bin, ['--sha256'], { input, encoding: 'utf8', env: { GAMELAYER_ASSEMBLE_HASH: 'c' } }), `${n} bytes, portable`).toBe(want);
    }
  });

  it('refuses a wrong call with its usage, exit 2', () => {
    const r = spawnSync(assemblerFor(HOST)!.path, ['app-media', '/nonexistent'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: gamelayer-assemble TREE STORE DST WORKERS');
  });
});

async function game(dir: string, chunks: boolean): Promise<string> {
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
  await writeFile(path.join(dir, 'engine-media/e.dat'), 'engine media');
  await writeFile(path.join(dir, 'app/app.cfg'), 'app');
  await writeFile(path.join(dir, 'app-media/big.pak'), Buffer.alloc(2 * 1024 * 1024, 7));
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(
    yaml,
    [
      'game: native-helper',
      'version: 1.0.0',
      'start: /opt/local/engine/start.sh',
      'platforms: [linux/amd64, linux/arm64]',
      'trees:',
      '  engine: {source: engine}',
      '  engine-media: {source: engine-media}',
      '  app: {source: app}',
      `  app-media: {source: app-media${chunks ? ', chunks: {minFileSize: 1MiB, avgChunkSize: 256KiB}' : ''}}`,
      '',
    ].join('\n'),
  );
  return yaml;
}

/** The rootfs of `<store>:<ref>` for one platform, unpacked by umoci from a one-platform copy made by skopeo. */
let unpacked = 0;
function unpack(work: string, store: string, ref: string, arch: string): string {
  const n = ++unpacked;
  const one = path.join(work, `one-${n}`);
  execFileSync('skopeo', ['copy', '--override-os', 'linux', '--override-arch', arch, `oci:${store}:${ref}`, `oci:${one}:x`], { stdio: 'pipe' });
  const bundle = path.join(work, `bundle-${n}`);
  execFileSync('umoci', ['unpack', '--rootless', '--image', `${one}:x`, bundle], { stdio: 'pipe' });
  return path.join(bundle, 'rootfs');
}

describe('a chunked build carries the native assembler', () => {
  it("in each platform's tree image of the chunked tree only, mode 755; the same digest when built again", async () => {
    const work = await tempDir('gl-native-build-');
    const config = await loadConfig(await game(path.join(work, 'game'), true));
    const first = await build({ config, tag: 'v1' });
    for (const arch of ['amd64', 'arm64']) {
      const rootfs = unpack(work, first.store, 'v1-app-media', arch);
      const helper = path.join(rootfs, 'opt/local/app-media', ASSEMBLER_PATH);
      expect((await stat(helper)).mode & 0o777, arch).toBe(0o755);
      expect((await readFile(helper)).equals(await assemblerBytes(`linux/${arch}`)!), arch).toBe(true);
      // The other trees' images and the server image do not have it.
      expect(existsSync(path.join(unpack(work, first.store, 'v1-app', arch), 'opt/local/app', ASSEMBLER_PATH))).toBe(false);
      expect(existsSync(path.join(unpack(work, first.store, 'v1', arch), 'opt/local/app-media', ASSEMBLER_PATH))).toBe(false);
    }
    // Same sources, another store: the same tree image digests.
    const again = path.join(work, 'game2');
    const config2 = await loadConfig(await game(again, true));
    const second = await build({ config: config2, tag: 'v1' });
    expect(second.record.images).toEqual(first.record.images);

    // An unchunked tree's image has no helper.
    const plain = await build({ config: await loadConfig(await game(path.join(work, 'plain'), false)), tag: 'v1' });
    expect(existsSync(path.join(unpack(work, plain.store, 'v1-app-media', 'amd64'), 'opt/local/app-media', ASSEMBLER_PATH))).toBe(false);
  }, 300_000);
});
