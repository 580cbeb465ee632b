// A base layer compressed with zstd whose stream holds a frame zstd cannot decode after good ones: `zstd -d` writes
// the good frames' bytes, says why on stderr and exits 1. Its exit status was not looked at: the output cut short
// was taken as the layer's tar (its config's diff_id can name exactly those bytes), the build succeeded on a base no
// runtime can unpack, and zstd's own message reached the terminal unlabelled. Now the read fails as base.archive,
// naming the layer and carrying zstd's message.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeOneLayerLayout } from './support/make-layout.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('a zstd base layer with a frame zstd cannot decode after good ones', () => {
  it('fails as base.archive naming the layer, with zstd\'s message; the good stream alone builds', async () => {
    const work = await tempDir();
    const root = path.join(work, 'root');
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc/motd'), 'hello\n');
    const tar = execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '-cf', '-', 'etc']);
    const good = execFileSync('zstd', ['-q', '-c'], { input: tar });
    // A frame's magic number, then bytes that are no frame header zstd accepts.
    const bad = Buffer.concat([good, Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from('junk junk junk junk')]);

    const build = async (layer: Buffer) => {
      const game = await tempDir();
      copySample(game);
      const digest = await writeOneLayerLayout(path.join(game, 'base'), layer, sha256(tar), 'application/vnd.oci.image.layer.v1.tar+zstd');
      const yaml = path.join(game, 'gamelayer.yaml');
      await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('baseImage: scratch', 'baseImage: oci:./base:latest'));
      return { digest, r: await runCli(['build'], { cwd: game }) };
    };

    const control = await build(good);
    expect(control.r.stderr).not.toMatch(/^error/m);
    expect(control.r.code).toBe(0);

    const { digest, r } = await build(bad);
    expect(r.stderr).toMatch(new RegExp(`^error\\[base\\.archive\\]: base layer ${digest}: not a readable layer tar: zstd exited with 1: .*Decoding error`, 'm'));
    // zstd's message only inside ours, never a line of its own.
    expect(r.stderr).not.toMatch(/^\/\*stdin\*/m);
    expect(r.code).toBe(1);
  });
});
