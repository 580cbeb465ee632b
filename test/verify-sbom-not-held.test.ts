// `verify` checks each attached SBOM (digest, schema, the image it names) in a temp file a piece at a time and
// never reads it back whole: it did (readSbom), and a 1M-file game's SBOM is 208 MiB (verify peaked at 340 MiB).
// Counted, not timed: the largest Buffer allocated while verifying, against the SBOM's size.
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { registryOptions } from '../src/cli/registry-flags.js';
import { publicKeyFor } from '../src/sign/keys.js';
import { verifyImage } from '../src/supply/image-signatures.js';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-verify-sbom-held-');

/** Sizes of the registry's stored blobs. */
async function blobSizes(root: string): Promise<number[]> {
  const dir = path.join(root, 'docker/registry/v2/blobs/sha256');
  const out: number[] = [];
  for (const a of await readdir(dir)) for (const b of await readdir(path.join(dir, a))) out.push((await stat(path.join(dir, a, b, 'data'))).size);
  return out;
}

describe('verify of an image with an SBOM', () => {
  it('checks the SBOM without holding it', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    // 8,000 small files: an SBOM of about 2 MiB, well above the verify's own buffers (a few hundred KiB at most).
    for (let d = 0; d < 8; d++) {
      const sub = path.join(dir, 'app-media', 'many', `d${d}`);
      await mkdir(sub, { recursive: true });
      for (let i = 0; i < 1000; i++) await writeFile(path.join(sub, `f${i}.txt`), `${d}/${i}\n`);
    }
    const repo = `${fx.reg.host}/studio/game`;
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const sbomBytes = Number(/SBOM sha256:[0-9a-f]+: \d+ files, ([\d.]+) MiB/.exec(built.stdout)?.[1] ?? NaN) * 1024 * 1024;
    expect(sbomBytes).toBeGreaterThan(1 << 20);
    expect(Math.max(...(await blobSizes(fx.reg.storageDir)))).toBeGreaterThanOrEqual(sbomBytes * 0.99);

    const spies = [vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'allocUnsafeSlow'), vi.spyOn(Buffer, 'alloc')];
    try {
      const result = await verifyImage({ ...(await registryOptions({})), ref: `${repo}:v1`, key: await publicKeyFor(path.join(fx.root, 'pub.pem')), requireSbom: true });
      expect(result.ok, result.problems.join('; ')).toBe(true);
      expect(result.items.filter((i) => i.what === 'sbom').map((i) => i.documentValid)).toEqual([true]);
      const largest = Math.max(0, ...spies.flatMap((s) => s.mock.calls.map((c) => Number(c[0]))));
      // Before: one buffer of the whole document (readFile of the temp file).
      expect(largest).toBeLessThan(sbomBytes * 0.9);
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
});
