// Copies of the bundled sample game, without vitest (tmp.ts, sample.ts register hooks): for the tests through
// sample.ts, and for benches (bench/supply-chain.ts) that run outside vitest.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SAMPLE = path.resolve('fixtures/sample-game');

/**
 * A copy of the sample game built for two platforms at `dst`: linux/amd64 from the bundled engine tarball, linux/arm64
 * from the same engine unpacked beside it with one file of its own (`bin/arch.txt`); the media trees are shared.
 */
export async function copyTwoPlatformSample(dst: string): Promise<void> {
  copySample(dst);
  await mkdir(path.join(dst, 'engine-arm64'));
  execFileSync('tar', ['-xzf', path.join(dst, 'engine/BinLinux64.Dedicated.tar.gz'), '-C', path.join(dst, 'engine-arm64')]);
  await writeFile(path.join(dst, 'engine-arm64/bin/arch.txt'), 'arm64\n');
  const yaml = (await readFile(path.join(dst, 'gamelayer.yaml'), 'utf8'))
    .replace('source: ./engine/BinLinux64.Dedicated.tar.gz', 'source: {linux/amd64: ./engine/BinLinux64.Dedicated.tar.gz, linux/arm64: ./engine-arm64}')
    .replace('baseImage: scratch', 'baseImage: scratch\nplatforms: [linux/amd64, linux/arm64]');
  await writeFile(path.join(dst, 'gamelayer.yaml'), yaml);
}

/** A copy of the sample game (without its .gamelayer state) at `dst`; `umask` applies to the copy. */
export function copySample(dst: string, umask = '022'): void {
  execFileSync('sh', ['-c', `umask ${umask} && mkdir -p "$2" && cd "$1" && tar --exclude=./.gamelayer -cf - . | (cd "$2" && tar --no-same-permissions -xf -)`, 'sh', SAMPLE, dst]);
}
